using System.Globalization;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Proximity.Ingest.Tests;

public sealed record Received(string Topic, string Payload);

/// <summary>A real MQTT client as a device or an integration would use, collecting what it receives.</summary>
public sealed class MqttTestClient : IAsyncDisposable
{
    public const double Lat = 52.37310, Lon = 4.89260;
    private static readonly double MetersPerDegreeLon = 111_320 * Math.Cos(Lat * Math.PI / 180);
    private readonly IMqttClient _client;
    private readonly List<Received> _received = [];
    private readonly List<(Func<Received, bool> Match, TaskCompletionSource<Received> Done)> _waiters = [];

    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private MqttTestClient(IMqttClient client)
    {
        _client = client;
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected) _disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var m = new Received(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString());
            lock (_received)
            {
                _received.Add(m);
                foreach (var w in _waiters.Where(w => w.Match(m)).ToList())
                {
                    _waiters.Remove(w);
                    w.Done.TrySetResult(m);
                }
            }
            return Task.CompletedTask;
        };
    }

    public bool IsConnected => _client.IsConnected;

    public static async Task<MqttTestClient> ConnectAsync(int port, string id, string secret, MqttProtocolVersion version = MqttProtocolVersion.V500,
        bool cleanStart = true)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithCredentials(id, secret)
            .WithProtocolVersion(version).WithCleanStart(cleanStart).WithSessionExpiryInterval(cleanStart ? 0u : 3600u).WithTimeout(TimeSpan.FromSeconds(30)).Build();
        var device = new MqttTestClient(client); // listening before it connects: no disconnect goes unseen
        try
        {
            await client.ConnectAsync(options);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return device;
    }

    /// <summary>
    /// As a device does: a connection that does not answer right after its login is made again. Seen under CI load:
    /// the client reported "disconnected" at its first publish after a successful connect (MQTTnet's client can leave
    /// IsConnected false after a successful connect, dotnet/MQTTnet#2180). For checks about what happens after the
    /// login, on a connection known to work.
    /// </summary>
    public static async Task<MqttTestClient> ConnectWorkingAsync(int port, string id, string secret)
    {
        for (int attempt = 1; ; attempt++)
        {
            var client = await ConnectAsync(port, id, secret);
            if (await client.AnswersPing()) return client;
            await client.DisposeAsync();
            if (attempt == 3) throw new InvalidOperationException($"{id}: no working connection after three logins");
        }
    }

    /// <summary>The broker's answer to a connection attempt with these credentials (the client is closed again).</summary>
    public static async Task<MqttClientConnectResultCode> TryConnectAsync(int port, string clientId, string username, string secret)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(clientId).WithCredentials(username, secret)
            .WithProtocolVersion(MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(30)).Build();
        try
        {
            var result = await client.ConnectAsync(options);
            if (client.IsConnected) await client.DisconnectAsync();
            return result.ResultCode;
        }
        catch (MQTTnet.Adapter.MqttConnectingFailedException e)
        {
            // MQTTnet 5 reports a refused CONNACK as this exception, naming the reason code in the message.
            return Enum.GetValues<MqttClientConnectResultCode>().FirstOrDefault(c => e.Message.Contains(c.ToString(), StringComparison.Ordinal),
                MqttClientConnectResultCode.UnspecifiedError);
        }
    }

    public async Task<MqttClientSubscribeResultCode> SubscribeAsync(string filter)
    {
        var result = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return result.Items.Single().ResultCode;
    }

    public Task UnsubscribeAsync(string filter) => _client.UnsubscribeAsync(filter);

    public Task<MqttClientPublishResult> PublishAsync(string topic, string payload) => PublishAsync(topic, Encoding.UTF8.GetBytes(payload));

    public Task<MqttClientPublishResult> PublishAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>Completes when a connection this client had is ended (its disconnect event, not IsConnected); fails after 30 s.</summary>
    public async Task WaitDisconnected(string what)
    {
        try { await _disconnected.Task.WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { throw new TimeoutException($"not within 30 s: {what}"); }
    }

    /// <summary>True when the connection answers a ping now.</summary>
    public async Task<bool> AnswersPing()
    {
        try
        {
            await _client.PingAsync();
            return true;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException) { return false; }
    }

    public Task<Received> WaitFor(Func<Received, bool> match, string what)
    {
        var done = new TaskCompletionSource<Received>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_received)
        {
            if (_received.FirstOrDefault(match) is { } m) return Task.FromResult(m);
            _waiters.Add((match, done));
        }
        return done.Task.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t =>
            t.IsCompletedSuccessfully ? t.Result : throw new TimeoutException($"no message {what} within 60 s; got: {string.Join(", ", Received.Select(x => x.Topic))}"),
            TaskScheduler.Default);
    }

    public IReadOnlyList<Received> Received { get { lock (_received) return _received.ToArray(); } }

    /// <summary>A device-protocol fix <paramref name="eastMeters"/> east of the victim's home point.</summary>
    public static string Fix(long seq, DateTimeOffset ts, double eastMeters, double acc = 5) => string.Format(CultureInfo.InvariantCulture,
        "{{\"seq\":{0},\"ts\":\"{1:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{2:F6},\"lon\":{3:F6},\"acc\":{4},\"bat\":80,\"src\":\"gps\"}}",
        seq, ts.UtcDateTime, Lat, Lon + eastMeters / MetersPerDegreeLon, acc);

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }
}
