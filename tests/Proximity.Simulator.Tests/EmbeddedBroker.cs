using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using MQTTnet.Server.Internal.Adapter;

namespace Proximity.Simulator.Tests;

/// <summary>
/// An in-process MQTTnet 5 broker on a free loopback port that authenticates devices like the service does
/// (client id = username = device id, password = secret), confines each device to its own topics, and
/// records every publish.
/// </summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly MqttTcpServerAdapter _adapter = new();
    private readonly IReadOnlyDictionary<string, string> _secrets;

    public sealed record Published(string ClientId, string Topic, byte[] Payload, DateTimeOffset At);

    private EmbeddedBroker(IReadOnlyDictionary<string, string> secrets, bool allowAnonymous)
    {
        _secrets = secrets;
        var options = new MqttServerFactory().CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointPort(0)
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(options, [_adapter]);
        _server.ValidatingConnectionAsync += e =>
        {
            bool ok = _secrets.TryGetValue(e.ClientId, out var secret) && e.UserName == e.ClientId && e.Password == secret
                || allowAnonymous && e.UserName is null && !_secrets.ContainsKey(e.ClientId);
            if (!ok) RefusedConnections.Enqueue(e.ClientId);
            else
            {
                ConnectedFrom[e.ClientId] = e.RemoteEndPoint;
                KeepAliveOf[e.ClientId] = e.KeepAlivePeriod;
            }
            e.ReasonCode = ok ? MqttConnectReasonCode.Success : MqttConnectReasonCode.BadUserNameOrPassword;
            return Task.CompletedTask;
        };
        _server.InterceptingPublishAsync += e =>
        {
            string topic = e.ApplicationMessage.Topic;
            if (e.ClientId is { Length: > 0 } id && _secrets.ContainsKey(id) && !topic.StartsWith($"proximity/v1/devices/{id}/", StringComparison.Ordinal))
            {
                e.ProcessPublish = false;
                e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
                return Task.CompletedTask;
            }
            var p = new Published(e.ClientId ?? "", topic, e.ApplicationMessage.Payload.ToArray(), DateTimeOffset.UtcNow);
            if (RefuseWith?.Invoke(p) is { } refusal)
            {
                e.ProcessPublish = false;
                e.Response.ReasonCode = refusal;
                return Task.CompletedTask;
            }
            Messages.Enqueue(p);
            OnPublish?.Invoke(p);
            return Task.CompletedTask;
        };
    }

    public ConcurrentQueue<Published> Messages { get; } = new();
    public ConcurrentQueue<string> RefusedConnections { get; } = new();
    public ConcurrentDictionary<string, EndPoint> ConnectedFrom { get; } = new();
    /// <summary>The keep-alive (seconds) each client asked for when it connected.</summary>
    public ConcurrentDictionary<string, int?> KeepAliveOf { get; } = new();
    public int Port { get; private set; }

    /// <summary>When set and it returns a reason code, the publish is answered with it and not recorded.</summary>
    public Func<Published, MqttPubAckReasonCode?>? RefuseWith { get; set; }

    /// <summary>Called for every accepted publish, on the broker's thread.</summary>
    public Action<Published>? OnPublish { get; set; }

    /// <param name="allowAnonymous">also accept clients without a username (as Mosquitto's allow_anonymous)</param>
    public static async Task<EmbeddedBroker> StartAsync(IReadOnlyDictionary<string, string> secrets, bool allowAnonymous = false)
    {
        var broker = new EmbeddedBroker(secrets, allowAnonymous);
        await broker._server.StartAsync();
        broker.Port = broker.BoundPort();
        return broker;
    }

    /// <summary>Publishes as the service would (commands, notifications, alerts).</summary>
    public Task InjectAsync(string topic, string payload) =>
        _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(
            new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build())
        { SenderClientId = "test-service" });

    // MQTTnet does not expose the port it bound for port 0; its listener's socket knows it.
    private int BoundPort()
    {
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        var listeners = (System.Collections.IEnumerable)typeof(MqttTcpServerAdapter).GetField("_listeners", Private)!.GetValue(_adapter)!;
        foreach (var listener in listeners)
        {
            var socket = listener.GetType().GetField("_socket", Private)!.GetValue(listener)!;
            if (socket.GetType().GetProperty("LocalEndPoint")!.GetValue(socket) is IPEndPoint { Port: > 0 } ep) return ep.Port;
        }
        throw new InvalidOperationException("the embedded broker has no bound listener");
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}
