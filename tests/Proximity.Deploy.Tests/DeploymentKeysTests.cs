using Microsoft.Extensions.Configuration;
using Proximity.Server.Commands;

namespace Proximity.Deploy.Tests;

/// <summary>The operator keys of docs/operations.md mapped onto the components' own sections, flags included.</summary>
public sealed class DeploymentKeysTests
{
    private static (Dictionary<string, string?> Keys, int HttpPort) Apply(Dictionary<string, string?> configuration,
        Dictionary<string, string?>? flags = null, int? httpPortFlag = null, int? mqttPortFlag = null)
    {
        var into = flags ?? [];
        int http = DeploymentKeys.Apply(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build(), into, httpPortFlag, mqttPortFlag);
        return (into, http);
    }

    [Fact]
    public void The_mqtt_port_flag_is_the_external_brokers_when_the_environment_chose_external_mode()
    {
        var (keys, _) = Apply(new() { ["Proximity:Mqtt:Mode"] = "external", ["Proximity:Mqtt:Port"] = "1884" }, mqttPortFlag: 2883);
        Assert.Equal("external", keys["Proximity:Ingest:Mode"]);
        Assert.Equal("2883", keys["Proximity:Ingest:BrokerPort"]);
        Assert.False(keys.ContainsKey("Proximity:Ingest:Port"));
    }

    [Fact]
    public void The_mqtt_port_flag_is_the_embedded_brokers_otherwise_and_wins_over_its_key()
    {
        var (keys, _) = Apply(new() { ["Proximity:Ingest:Port"] = "1884" }, mqttPortFlag: 2883);
        Assert.Equal("2883", keys["Proximity:Ingest:Port"]);
        Assert.False(keys.ContainsKey("Proximity:Ingest:BrokerPort"));
    }

    [Fact]
    public void The_mqtt_port_flag_follows_the_mode_flag()
    {
        var (keys, _) = Apply(new() { ["Proximity:Mqtt:Mode"] = "embedded" }, new() { ["Proximity:Ingest:Mode"] = "external" }, mqttPortFlag: 2883);
        Assert.Equal("2883", keys["Proximity:Ingest:BrokerPort"]);
    }

    [Fact]
    public void The_operator_port_key_goes_to_the_running_modes_port_and_a_components_own_key_wins()
    {
        Assert.Equal("1884", Apply(new() { ["Proximity:Ingest:Mode"] = "External", ["Proximity:Mqtt:Port"] = "1884" }).Keys["Proximity:Ingest:BrokerPort"]);
        Assert.Equal("1884", Apply(new() { ["Proximity:Mqtt:Port"] = "1884" }).Keys["Proximity:Ingest:Port"]);
        var (keys, _) = Apply(new() { ["Proximity:Mqtt:Port"] = "1884", ["Proximity:Ingest:Port"] = "1999", ["Proximity:Mqtt:Host"] = "a", ["Proximity:Ingest:BrokerHost"] = "b" });
        Assert.Empty(keys);
    }

    [Fact]
    public void The_http_port_comes_from_the_flag_then_the_key_then_5080()
    {
        Assert.Equal(6000, Apply(new() { ["Proximity:Http:Port"] = "5999" }, httpPortFlag: 6000).HttpPort);
        Assert.Equal(5999, Apply(new() { ["Proximity:Http:Port"] = "5999" }).HttpPort);
        Assert.Equal(5080, Apply([]).HttpPort);
    }
}
