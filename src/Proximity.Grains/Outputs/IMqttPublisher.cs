namespace Proximity.Grains.Outputs;

/// <summary>Publishes to the MQTT broker ingest uses (embedded or external); QoS 1.</summary>
public interface IMqttPublisher
{
    ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}

public static class Topics
{
    public const string AlertsPrefix = "proximity/v1/alerts/";
    public const string DevicesPrefix = "proximity/v1/devices/";

    public static string Alert(Spatial.Monitoring.AlertSeverity severity) => AlertsPrefix + severity.ToString().ToLowerInvariant();
    public static string Notify(string deviceId) => $"{DevicesPrefix}{deviceId}/notify";
    public static string Command(string deviceId) => $"{DevicesPrefix}{deviceId}/command";
}
