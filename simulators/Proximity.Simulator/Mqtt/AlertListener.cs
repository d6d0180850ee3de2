using System.Buffers;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Proximity.Simulator.Devices;

namespace Proximity.Simulator.Mqtt;

/// <summary>A control-room integration's subscription to <c>proximity/v1/alerts/#</c>.</summary>
public sealed class AlertListener : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;

    public AlertListener(BrokerOptions broker, string user, string? password, Action<string, byte[]> onAlert)
    {
        var factory = new MqttClientFactory();
        _client = factory.CreateMqttClient();
        var builder = factory.CreateClientOptionsBuilder()
            .WithTcpServer(broker.Host, broker.Port)
            // Client id = username, as for devices: a broker that ties the two together accepts it.
            .WithClientId(user)
            .WithProtocolVersion(broker.MqttV5 ? MqttProtocolVersion.V500 : MqttProtocolVersion.V311)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(broker.KeepAlive)
            .WithTimeout(broker.Timeout);
        if (password is not null) builder = builder.WithCredentials(user, password);
        _options = builder.Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            onAlert(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
    }

    public async Task StartAsync(CancellationToken ct)
    {
        var result = await _client.ConnectAsync(_options, ct);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttLinkException($"alerts subscriber: connection refused: {result.ResultCode} {result.ReasonString}");
        var s = await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(Topics.Alerts, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);
        foreach (var item in s.Items)
            if ((int)item.ResultCode > 2) throw new MqttLinkException($"alerts subscriber: subscription refused: {item.ResultCode}");
    }

    public async ValueTask DisposeAsync()
    {
        try { if (_client.IsConnected) await _client.DisconnectAsync(); }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException) { }
        _client.Dispose();
    }
}
