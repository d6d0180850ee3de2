using System.Globalization;
using System.Text;
using MQTTnet;
using Proximity.Grains;

namespace Proximity.Ingest.Tests;

[Collection(EmbeddedCollection.Name)]
public sealed class MalformedPayloadTests(EmbeddedFixture f)
{
    private const string Position = "proximity/v1/devices/A3/position";
    private const string Event = "proximity/v1/devices/A3/event";
    private static readonly string Ts = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    // A device clock a day ahead (an RTC fault): believing it would freeze the person's current position.
    private static readonly string TsAhead = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static TheoryData<string, string, string> Bad => new()
    {
        { Position, "not json", "InvalidJson" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":52.3", "InvalidJson" },
        { Position, "", "InvalidJson" },
        { Position, "{\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5}", "MissingField" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lon\":4.8,\"acc\":5}", "MissingField" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":91,\"lon\":4.8,\"acc\":5}", "OutOfRange" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":0}", "OutOfRange" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":\"5\"}", "InvalidValue" },
        { Position, "{\"seq\":1,\"ts\":\"yesterday\",\"lat\":52.3,\"lon\":4.8,\"acc\":5}", "InvalidValue" },
        { Position, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5,\"src\":\"none\",\"bat\":101}", "OutOfRange" },
        { Position, "{\"seq\":1,\"ts\":\"" + TsAhead + "\",\"src\":\"none\"}", "OutOfRange" },
        { Position, "{\"seq\":-1,\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5}", "OutOfRange" },
        { Position, "{\"seq\":1,\"ts\":\"" + TsAhead + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5}", "OutOfRange" },
        { Position, "[{\"seq\":1,\"ts\":\"" + Ts + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5},{\"seq\":2,\"ts\":\"" + TsAhead + "\",\"lat\":52.3,\"lon\":4.8,\"acc\":5}]", "OutOfRange" },
        { Position, "[]", "MissingField" },
        { Position, "[1,2,3]", "InvalidValue" },
        { Position, "42", "InvalidValue" },
        { Event, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"type\":\"dance\"}", "UnknownEventType" },
        { Event, "{\"seq\":1,\"ts\":\"" + Ts + "\"}", "MissingField" },
        { Event, "{\"seq\":1,\"ts\":\"" + Ts + "\",\"type\":\"sos\",\"bat\":120}", "OutOfRange" },
        { "proximity/v1/devices/A3/selfie", "{}", "UnknownTopic" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public async Task A_malformed_message_is_refused_counted_by_reason_and_changes_nothing(string topic, string payload, string reason)
    {
        await using var ankle = await MqttTestClient.ConnectWorkingAsync(f.Host.MqttPort, "A3", "ankle-secret");
        long before = f.Rejects[reason];
        int messages = (await f.Host.Grains.DeviceGrain("A3").GetStatus()).Messages;
        var result = await ankle.PublishAsync(topic, payload);
        Assert.False(result.IsSuccess);
        Assert.Equal(before + 1, f.Rejects[reason]);
        Assert.Equal(messages, (await f.Host.Grains.DeviceGrain("A3").GetStatus()).Messages);
        Assert.True(ankle.IsConnected);
    }

    [Fact]
    public async Task Many_random_payloads_crash_nothing_change_nothing_and_are_all_counted()
    {
        const int count = 400;
        var random = new Random(20261123);
        await using var ankle = await MqttTestClient.ConnectWorkingAsync(f.Host.MqttPort, "A3", "ankle-secret");
        long before = f.Rejects.Total;
        int messages = (await f.Host.Grains.DeviceGrain("A3").GetStatus()).Messages;
        for (int i = 0; i < count; i++)
        {
            var result = await ankle.PublishAsync(i % 4 == 3 ? Event : Position, RandomPayload(random));
            Assert.NotEqual(MqttClientPublishReasonCode.Success, result.ReasonCode);
        }
        Assert.Equal(before + count, f.Rejects.Total);
        Assert.Equal(messages, (await f.Host.Grains.DeviceGrain("A3").GetStatus()).Messages);
        Assert.True(ankle.IsConnected);
        // Ingest is still alive: a good fix goes through.
        Assert.True((await ankle.PublishAsync(Position, MqttTestClient.Fix(1, DateTimeOffset.UtcNow, 9000))).IsSuccess);
        Assert.Equal(messages + 1, (await f.Host.Grains.DeviceGrain("A3").GetStatus()).Messages);
    }

    /// <summary>Always invalid by construction: random bytes, random JSON shapes, or a valid fix with one field broken.</summary>
    private static byte[] RandomPayload(Random r)
    {
        switch (r.Next(4))
        {
            case 0:
                var bytes = new byte[r.Next(0, 300)];
                r.NextBytes(bytes);
                if (bytes.Length > 0 && bytes[0] is (byte)'{' or (byte)'[') bytes[0] = (byte)'x';
                return bytes;
            case 1:
                return Encoding.UTF8.GetBytes(RandomJson(r, 0));
            case 2:
                var fix = MqttTestClient.Fix(r.Next(1, 1000), DateTimeOffset.UtcNow, r.Next(0, 5000));
                return Encoding.UTF8.GetBytes(fix[..r.Next(0, fix.Length - 1)]); // truncated
            default:
                string[] fields = ["seq", "ts", "lat", "lon", "acc"];
                string field = fields[r.Next(fields.Length)];
                string[] badValues = ["null", "\"x\"", "[]", "{}", "true", "-1e400", "1e999", field == "seq" ? "1.5" : "-5000"];
                var parts = new Dictionary<string, string>
                {
                    ["seq"] = "1", ["ts"] = "\"" + Ts + "\"", ["lat"] = "52.3", ["lon"] = "4.8", ["acc"] = "5",
                };
                if (r.Next(3) == 0) parts.Remove(field);
                else parts[field] = badValues[r.Next(badValues.Length)];
                return Encoding.UTF8.GetBytes("{" + string.Join(",", parts.Select(p => $"\"{p.Key}\":{p.Value}")) + "}");
        }
    }

    private static string RandomJson(Random r, int depth) => (depth > 3 ? r.Next(4) : r.Next(7)) switch
    {
        0 => r.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
        1 => "\"" + new string((char)r.Next('a', 'z'), r.Next(0, 10)) + "\"",
        2 => "null",
        3 => r.Next(2) == 0 ? "true" : "false",
        4 => "[" + string.Join(",", Enumerable.Range(0, r.Next(0, 4)).Select(_ => RandomJson(r, depth + 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, r.Next(0, 4)).Select(i => $"\"k{i}\":{RandomJson(r, depth + 1)}")) + "}",
    };
}
