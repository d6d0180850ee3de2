namespace Proximity.Server.Commands;

/// <summary>
/// The deployment files and the operations guide name settings the way operators think of them
/// (<c>Proximity:Mqtt:*</c>, <c>Proximity:Cluster:*</c>, <c>Proximity:Http:Port</c>); here, in one place, they map
/// onto the components' own sections (<c>Proximity:Ingest:*</c>, <c>Proximity:Silo:*</c>). A component's own key,
/// when set, wins.
/// </summary>
public static class DeploymentKeys
{
    private static readonly (string Operator, string Component)[] Names =
    [
        ("Proximity:Mqtt:Mode", "Proximity:Ingest:Mode"),
        ("Proximity:Mqtt:Host", "Proximity:Ingest:BrokerHost"),
        ("Proximity:Mqtt:Username", "Proximity:Ingest:Username"),
        ("Proximity:Mqtt:Password", "Proximity:Ingest:Password"),
        ("Proximity:Cluster:ClusterId", "Proximity:Silo:ClusterId"),
        ("Proximity:Cluster:SiloPort", "Proximity:Silo:SiloPort"),
        ("Proximity:Cluster:GatewayPort", "Proximity:Silo:GatewayPort"),
    ];

    /// <summary>
    /// Adds the component keys for the operator keys that are set, and returns the HTTP port to use. The MQTT port
    /// (flag or <c>Proximity:Mqtt:Port</c>) is the embedded broker's or the external one's, whichever mode runs,
    /// however the mode was chosen; the flag wins over every key.
    /// </summary>
    public static int Apply(IConfiguration configuration, IDictionary<string, string?> into, int? httpPortFlag, int? mqttPortFlag = null)
    {
        foreach (var (op, component) in Names)
            if (configuration[op] is { Length: > 0 } value && configuration[component] is null && !into.ContainsKey(component))
                into[component] = value;
        bool external = string.Equals(into.TryGetValue("Proximity:Ingest:Mode", out var m) ? m : configuration["Proximity:Ingest:Mode"],
            "external", StringComparison.OrdinalIgnoreCase);
        string portKey = external ? "Proximity:Ingest:BrokerPort" : "Proximity:Ingest:Port";
        if (mqttPortFlag is { } mqtt) into[portKey] = mqtt.ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (configuration["Proximity:Mqtt:Port"] is { Length: > 0 } port && configuration[portKey] is null && !into.ContainsKey(portKey))
            into[portKey] = port;
        if (httpPortFlag is { } flag) return flag;
        return int.TryParse(configuration["Proximity:Http:Port"], out int http) ? http : 5080;
    }
}
