using System.Net;

namespace Proximity.Simulator.Mqtt;

/// <summary>Where the broker is and how to talk to it.</summary>
public sealed record BrokerOptions
{
    public string Host { get; init; } = "localhost";
    public int Port { get; init; } = 1883;
    public bool MqttV5 { get; init; } = true;
    /// <summary>MQTT keep-alive; zero = none (MQTTnet then runs no keep-alive loop, which wakes every 250 ms per client).</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Local addresses to spread connections over (one address has ~28 000 ephemeral ports).</summary>
    public IReadOnlyList<IPAddress> SourceAddresses { get; init; } = [];

    public string? Problem() =>
        string.IsNullOrWhiteSpace(Host) ? "the broker host is empty"
        : Port is < 1 or > 65535 ? $"port {Port} is outside 1..65535"
        : null;
}
