using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet.Formatter;
using Npgsql;
using Proximity.Grains.Outputs;
using Proximity.Grains.Tests;
using Proximity.Ingest;
using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Storage.Positions;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// What the fault tests share: the live service in production storage mode (silo + MQTT ingest + outputs on
/// PostgreSQL, as <c>proximity run --storage postgres</c> wires it), device fixes in the protocol's JSON, and
/// questions to the database.
/// </summary>
public static class LiveService
{
    public const double Lat = Fixes.Lat, Lon = Fixes.Lon;

    /// <summary>Durable mode on <paramref name="connectionString"/>; critical alerts are not escalated (an
    /// escalation republishes the alert, which the tests would count as a second publish).</summary>
    public static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["Proximity:Storage"] = "postgres",
        ["Proximity:ConnectionString"] = connectionString,
        ["Proximity:Storage:MigrateOnStart"] = "true",
        ["Proximity:EscalateCriticalAfter"] = "00:00:00",
    };

    /// <summary>Mosquitto's password-file entries for <see cref="ServiceHost.Case"/>: the devices and the control room.</summary>
    public static IEnumerable<(string User, string Password)> Users(IEnumerable<string> pairs) =>
        pairs.SelectMany(p => new[] { ("A" + p, "ankle-secret"), ("P" + p, "phone-secret") }).Append(("meldkamer-1", "meldkamer-secret"));

    /// <summary>A control room on the alerts topic, with a persistent session.</summary>
    public static Task<ReconnectingMqttClient> ControlRoomAsync(int port) =>
        ReconnectingMqttClient.SubscriberAsync(port, "meldkamer-1", "meldkamer-secret", "proximity/v1/alerts/#");

    public static Task<ServiceHost> StartAsync(CaseFile caseFile, string connectionString, Action<IngestOptions>? ingest = null,
        IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = Settings(connectionString);
        foreach (var (key, value) in more ?? new Dictionary<string, string?>()) settings[key] = value;
        return ServiceHost.StartAsync(caseFile, ingest, settings);
    }

    /// <summary>One fix of the device protocol, <paramref name="eastMeters"/> east of the victims' home point.</summary>
    public static string Fix(long seq, DateTimeOffset ts, double eastMeters, int battery = 80) => string.Format(CultureInfo.InvariantCulture,
        "{{\"seq\":{0},\"ts\":\"{1:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{2:F6},\"lon\":{3:F6},\"acc\":5,\"bat\":{4},\"src\":\"gps\"}}",
        seq, ts.UtcDateTime, Lat, Fixes.LonEast(eastMeters), battery);

    public static string PositionTopic(string device) => $"proximity/v1/devices/{device}/position";

    /// <summary>Waits until the service judged every device's messages up to the given sequence number (grain
    /// state has no change signal: polled, bounded).</summary>
    public static async Task WaitUntilHandledAsync(ServiceHost service, IReadOnlyDictionary<string, long> lastSeq, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        foreach (var (device, seq) in lastSeq)
        {
            while ((await service.Grains.DeviceGrain(device).GetStatus()).LastSeq < seq)
            {
                try { await Task.Delay(100, cts.Token); }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"{device}: seq {seq} not handled within {timeout} (last {(await service.Grains.DeviceGrain(device).GetStatus()).LastSeq})");
                }
            }
        }
    }

    /// <summary>Everything the service accepted so far is written to position_fix.</summary>
    public static Task FlushHistoryAsync(ServiceHost service, CancellationToken ct) =>
        service.Services.GetRequiredService<PositionWriteBuffer>().FlushAsync(ct).WaitAsync(TimeSpan.FromSeconds(120), ct);

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task<List<object[]>> RowsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await r.ReadAsync())
        {
            var row = new object[r.FieldCount];
            r.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The distinct sequence numbers of a device in the position history.</summary>
    public static async Task<HashSet<long>> StoredSeqsAsync(string connectionString, string device) =>
        (await RowsAsync(connectionString, $"SELECT DISTINCT seq FROM position_fix WHERE device_id = '{device}'")).Select(r => (long)r[0]).ToHashSet();

    /// <summary>Waits until every recorded alert left the outbox (published_at set; polled).</summary>
    public static async Task WaitUntilAllPublishedAsync(string connectionString, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await ScalarAsync(connectionString, "SELECT count(*) FROM alert WHERE published_at IS NULL") > 0)
        {
            try { await Task.Delay(200, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"alerts still unpublished after {timeout}"); }
        }
    }

    /// <summary>
    /// One breach per offender named, in the alert table once (no other alert twice either), every recorded alert
    /// published, each breach received once by the control room, and nothing received that was not recorded.
    /// </summary>
    public static async Task AssertEachBreachRecordedAndPublishedOnceAsync(string connectionString, ReconnectingMqttClient controlRoom, params string[] offenders)
    {
        var breaches = await RowsAsync(connectionString, "SELECT offender_id, id FROM alert WHERE type = 'ContactBanBreach' ORDER BY offender_id");
        Assert.Equal(offenders, breaches.Select(r => (string)r[0]));
        Assert.Empty(await RowsAsync(connectionString, "SELECT offender_id, type FROM alert GROUP BY offender_id, type HAVING count(*) > 1"));
        await WaitUntilAllPublishedAsync(connectionString, TimeSpan.FromSeconds(90));
        foreach (var row in breaches)
            await controlRoom.WaitForAsync(m => m.Payload.Contains((string)row[1], StringComparison.Ordinal), $"breach {row[1]}", TimeSpan.FromSeconds(60));
        var raises = RaisesReceived(controlRoom.Received);
        foreach (var row in breaches) Assert.Equal(1, raises.GetValueOrDefault((string)row[1]));
        var recorded = (await RowsAsync(connectionString, "SELECT id FROM alert")).Select(r => (string)r[0]).ToHashSet();
        Assert.Subset(recorded, raises.Keys.ToHashSet());
    }

    /// <summary>Alert raises (not clears or updates) a control room received, by alert id.</summary>
    public static Dictionary<string, int> RaisesReceived(IEnumerable<Received> messages) =>
        messages.Where(m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal))
            .Select(m => AlertJson.Deserialize(m.Payload)!)
            .Where(a => a.ClearedAt is null)
            .GroupBy(a => a.Id)
            .ToDictionary(g => g.Key, g => g.Count());
}

/// <summary>Each pair's phone P{s} and ankle monitor A{s} (<see cref="ServiceHost.Case"/>), as store-and-forward devices.</summary>
public sealed class DeviceFleet : IAsyncDisposable
{
    private readonly Dictionary<string, ReconnectingMqttClient> _devices = [];

    public ReconnectingMqttClient this[string id] => _devices[id];

    public IReadOnlyDictionary<string, ReconnectingMqttClient> All => _devices;

    /// <param name="phoneVersion">the MQTT version of each pair's phone (5 unless told)</param>
    public static async Task<DeviceFleet> ConnectAsync(int port, IEnumerable<string> pairs, Func<string, MqttProtocolVersion>? phoneVersion = null)
    {
        var fleet = new DeviceFleet();
        try
        {
            foreach (var p in pairs)
            {
                fleet._devices["P" + p] = await ReconnectingMqttClient.DeviceAsync(port, "P" + p, "phone-secret", phoneVersion?.Invoke(p) ?? MqttProtocolVersion.V500);
                fleet._devices["A" + p] = await ReconnectingMqttClient.DeviceAsync(port, "A" + p, "ankle-secret");
            }
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
        return fleet;
    }

    public async Task DrainAsync(TimeSpan timeout)
    {
        foreach (var d in _devices.Values) await d.DrainAsync(timeout);
    }

    /// <summary>Every fix a device had acknowledged (it sent <paramref name="sent"/>, all acknowledged in the end) is
    /// in position_fix, at the latest 60 s from now (a node may still hold messages it retries: with an external
    /// broker a device's acknowledgement comes from the broker, not from the node).</summary>
    public async Task AssertAcknowledgedFixesStoredAsync(string connectionString, int sent)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var (id, device) in _devices)
        {
            var acknowledged = device.Acknowledged.Select(long.Parse).ToHashSet();
            Assert.Equal(sent, acknowledged.Count);
            while (true)
            {
                var missing = acknowledged.Except(await LiveService.StoredSeqsAsync(connectionString, id)).Order().ToArray();
                if (missing.Length == 0) break;
                Assert.True(DateTime.UtcNow < deadline, $"{id}: acknowledged fixes missing from position_fix: {string.Join(", ", missing)}");
                await Task.Delay(250);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _devices.Values) await d.DisposeAsync();
    }
}
