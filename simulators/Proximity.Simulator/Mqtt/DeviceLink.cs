using System.Buffers;
using System.Net;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Proximity.Simulator.Devices;

namespace Proximity.Simulator.Mqtt;

/// <summary>A message the service sent to a device.</summary>
public sealed record InboundMessage(string DeviceId, string Kind, byte[] Payload);

/// <summary>
/// One device's MQTT connection: client id = username = device id, password = the device secret, QoS 1
/// publishes, and a subscription to its own command and notify topics.
/// </summary>
public sealed class DeviceLink : IAsyncDisposable
{
    private static readonly MqttClientFactory Factory = new();
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly string _deviceId;

    public DeviceLink(BrokerOptions broker, string deviceId, string? secret, int sourceIndex = 0)
    {
        _deviceId = deviceId;
        _client = Factory.CreateMqttClient();
        var builder = Factory.CreateClientOptionsBuilder()
            .WithClientId(deviceId)
            .WithProtocolVersion(broker.MqttV5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(broker.KeepAlive)
            .WithTimeout(broker.Timeout)
            // One write per packet instead of header and payload apart: half the send system calls.
            .WithoutPacketFragmentation();
        builder = builder.WithTcpServer(broker.Host, broker.Port);
        // The action only amends the endpoint set just above (on its own it leaves none).
        if (broker.SourceAddresses.Count > 0)
            builder = builder.WithTcpServer(o => o.LocalEndpoint = new IPEndPoint(broker.SourceAddresses[sourceIndex % broker.SourceAddresses.Count], 0));
        if (secret is not null) builder = builder.WithCredentials(deviceId, secret);
        _options = builder.Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            string topic = e.ApplicationMessage.Topic;
            string kind = topic.EndsWith("/command", StringComparison.Ordinal) ? "command"
                : topic.EndsWith("/notify", StringComparison.Ordinal) ? "notify" : topic;
            Received?.Invoke(new InboundMessage(_deviceId, kind, e.ApplicationMessage.Payload.ToArray()));
            return Task.CompletedTask;
        };
    }

    /// <summary>Raised on the client's receive loop: keep handlers short and thread-safe.</summary>
    public event Action<InboundMessage>? Received;

    public bool IsConnected => _client.IsConnected;

    public string DeviceId => _deviceId;

    public async Task ConnectAsync(bool subscribe, CancellationToken ct)
    {
        var result = await _client.ConnectAsync(_options, ct);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttLinkException($"{_deviceId}: connection refused: {result.ResultCode} {result.ReasonString}");
        if (!subscribe) return;
        var sub = Factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter(Topics.Command(_deviceId), MqttQualityOfServiceLevel.AtLeastOnce)
            .WithTopicFilter(Topics.Notify(_deviceId), MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var s = await _client.SubscribeAsync(sub, ct);
        foreach (var item in s.Items)
            if ((int)item.ResultCode > 2) throw new MqttLinkException($"{_deviceId}: subscription to {item.TopicFilter.Topic} refused: {item.ResultCode}");
    }

    /// <summary>Publishes with QoS 1 and waits for the PUBACK.</summary>
    public async Task PublishAsync(string topic, byte[] payload, CancellationToken ct)
    {
        var message = new MqttApplicationMessage
        {
            Topic = topic,
            Payload = new ReadOnlySequence<byte>(payload),
            QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
        };
        var result = await _client.PublishAsync(message, ct);
        // "Not now" refusals (the service's history full, a failure in the service): the device keeps the message
        // and sends it again.
        if (!result.IsSuccess)
            throw new MqttLinkException($"{_deviceId}: publish to {topic} refused: {result.ReasonCode} {result.ReasonString}",
                sendAgain: result.ReasonCode is MqttClientPublishReasonCode.QuotaExceeded or MqttClientPublishReasonCode.ImplementationSpecificError);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected)
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build());
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
        {
            // Already gone: nothing to close.
        }
        _client.Dispose();
    }
}

public sealed class MqttLinkException(string message, bool sendAgain = false) : Exception(message)
{
    /// <summary>The broker or service said "not now": a device keeps the message and sends it again.</summary>
    public bool SendAgain { get; } = sendAgain;
}
