namespace Proximity.Deploy.Tests;

/// <summary>The production ACL (deploy/mosquitto/production/acl), evaluated with Mosquitto 2.0's rules.</summary>
public sealed class MosquittoAclTests
{
    private const string AclPath = "deploy/mosquitto/production/acl";
    private static readonly MosquittoAcl Acl = MosquittoAcl.Parse(Repo.Read(AclPath));

    private static string Device(string id, string leaf) => $"proximity/v1/devices/{id}/{leaf}";

    // A device connects with username = client id = its device id (forced on the TLS listener).
    private static bool DeviceMay(string device, string topic, MqttAccess access) => Acl.Allows(device, device, topic, access);

    [Theory]
    [InlineData("position")]
    [InlineData("event")]
    public void A_device_publishes_its_own_fixes_and_events_but_not_another_devices(string leaf)
    {
        Assert.True(DeviceMay("dev-a", Device("dev-a", leaf), MqttAccess.Write));
        Assert.False(DeviceMay("dev-a", Device("dev-b", leaf), MqttAccess.Write));
        Assert.False(DeviceMay("dev-a", Device("dev-a", leaf), MqttAccess.Read), "a device has no reason to read its own uplink");
    }

    [Theory]
    [InlineData("command")]
    [InlineData("notify")]
    public void A_device_receives_its_own_commands_and_notifications_only_and_cannot_forge_them(string leaf)
    {
        Assert.True(DeviceMay("dev-a", Device("dev-a", leaf), MqttAccess.Read));
        Assert.False(DeviceMay("dev-a", Device("dev-b", leaf), MqttAccess.Read));
        Assert.False(DeviceMay("dev-a", Device("dev-a", leaf), MqttAccess.Write));
        Assert.False(DeviceMay("dev-a", Device("dev-b", leaf), MqttAccess.Write));
    }

    [Theory]
    [InlineData("proximity/v1/devices/dev-b/position/extra")]
    [InlineData("proximity/v1/devices/dev-a/position/extra")]
    [InlineData("proximity/v1/devices/dev-a")]
    [InlineData("proximity/v1/alerts/critical")]
    [InlineData("proximity/v1/devices/dev-a/unknown")]
    [InlineData("owntracks/dev-b/phone")]
    [InlineData("$SYS/broker/uptime")]
    [InlineData("#")]
    public void A_device_may_not_publish_anywhere_else(string topic) =>
        Assert.False(DeviceMay("dev-a", topic, MqttAccess.Write));

    [Fact]
    public void A_device_reads_no_alerts_and_no_other_devices_positions() =>
        Assert.All(new[] { "proximity/v1/alerts/critical", Device("dev-b", "position"), Device("dev-b", "event"), "owntracks/dev-b/phone" },
            topic => Assert.False(DeviceMay("dev-a", topic, MqttAccess.Read), topic));

    [Fact]
    public void A_victim_phone_with_OwnTracks_publishes_only_below_its_own_user()
    {
        Assert.True(DeviceMay("dev-v1", "owntracks/dev-v1/phone", MqttAccess.Write));
        Assert.False(DeviceMay("dev-v1", "owntracks/dev-v2/phone", MqttAccess.Write));
    }

    [Fact]
    public void Wildcards_in_a_username_or_client_id_get_nothing_from_the_patterns()
    {
        Assert.False(Acl.Allows("+", "+", Device("dev-b", "position"), MqttAccess.Write));
        Assert.False(Acl.Allows("#", "x", "proximity/v1/devices/#", MqttAccess.Write));
        Assert.False(Acl.Allows("dev-a", "#", Device("dev-a", "position"), MqttAccess.Write));
    }

    [Fact]
    public void Clients_without_a_username_get_nothing() =>
        Assert.All(new[] { Device("dev-a", "position"), Device("dev-a", "notify"), "proximity/v1/alerts/critical" },
            topic => Assert.False(Acl.Allows(null, "anon", topic, MqttAccess.Read | MqttAccess.Write), topic));

    [Fact]
    public void The_service_reads_every_devices_uplink_and_writes_commands_notifications_and_alerts()
    {
        const string service = "proximity-service";
        Assert.Contains(service, Acl.Users);
        foreach (var id in new[] { "dev-a", "dev-b", "off-123" })
        {
            Assert.True(Acl.Allows(service, "node-1", Device(id, "position"), MqttAccess.Read));
            Assert.True(Acl.Allows(service, "node-1", Device(id, "event"), MqttAccess.Read));
            Assert.True(Acl.Allows(service, "node-1", Device(id, "command"), MqttAccess.Write));
            Assert.True(Acl.Allows(service, "node-1", Device(id, "notify"), MqttAccess.Write));
            Assert.False(Acl.Allows(service, "node-1", Device(id, "position"), MqttAccess.Write), "the service never speaks for a device");
        }
        Assert.True(Acl.Allows(service, "node-1", "proximity/v1/alerts/critical", MqttAccess.Write));
        Assert.True(Acl.Allows(service, "node-1", "owntracks/dev-v1/phone", MqttAccess.Read));
    }

    [Fact]
    public void Integrations_read_alerts_and_nothing_else()
    {
        const string integration = "integration-control-room";
        Assert.Contains(integration, Acl.Users);
        Assert.True(Acl.Allows(integration, integration, "proximity/v1/alerts/critical", MqttAccess.Read));
        Assert.True(Acl.Allows(integration, integration, "proximity/v1/alerts/warning", MqttAccess.Read));
        Assert.False(Acl.Allows(integration, integration, "proximity/v1/alerts/critical", MqttAccess.Write));
        Assert.False(Acl.Allows(integration, integration, Device("dev-a", "position"), MqttAccess.Read));
        Assert.False(Acl.Allows(integration, integration, Device("dev-a", "command"), MqttAccess.Write));
    }

    [Fact]
    public void The_kubernetes_copies_of_the_broker_files_are_identical_to_the_production_ones()
    {
        Assert.Equal(Repo.Read(AclPath), Repo.Read("deploy/k8s/mosquitto/acl"));
        Assert.Equal(Repo.Read("deploy/mosquitto/production/mosquitto.conf"), Repo.Read("deploy/k8s/mosquitto/mosquitto.conf"));
    }

    public static TheoryData<string> AllAclFiles()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(Repo.PathOf("deploy"), "*", SearchOption.AllDirectories)
                     .Where(p => Path.GetFileName(p) == "acl" || p.EndsWith(".acl", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Repo.Root, path).Replace('\\', '/'));
        return data;
    }

    /// <summary>Every ACL shipped under deploy/ (the production one, the Kubernetes copy, the single-broker template).</summary>
    [Theory]
    [MemberData(nameof(AllAclFiles))]
    public void Every_shipped_acl_keeps_devices_apart(string path)
    {
        var acl = MosquittoAcl.Parse(Repo.Read(path));
        foreach (var leaf in new[] { "position", "event" })
        {
            Assert.True(acl.Allows("dev-a", "dev-a", Device("dev-a", leaf), MqttAccess.Write));
            Assert.False(acl.Allows("dev-a", "dev-a", Device("dev-b", leaf), MqttAccess.Write));
            Assert.False(acl.Allows("dev-a", "dev-a", Device("dev-b", leaf), MqttAccess.Read));
        }
        foreach (var leaf in new[] { "command", "notify" })
        {
            Assert.True(acl.Allows("dev-a", "dev-a", Device("dev-a", leaf), MqttAccess.Read));
            Assert.False(acl.Allows("dev-a", "dev-a", Device("dev-b", leaf), MqttAccess.Read));
            Assert.False(acl.Allows("dev-a", "dev-a", Device("dev-a", leaf), MqttAccess.Write));
        }
        Assert.False(acl.Allows("dev-a", "dev-a", "proximity/v1/alerts/critical", MqttAccess.Write | MqttAccess.Read));
        Assert.False(acl.Allows(null, "anon", Device("dev-a", "position"), MqttAccess.Write | MqttAccess.Read));
        Assert.True(acl.Allows("proximity-service", "node", Device("dev-a", "position"), MqttAccess.Read));
        Assert.True(acl.Allows("proximity-service", "node", "proximity/v1/alerts/critical", MqttAccess.Write));
    }

    [Theory]
    [InlineData("a/+/c", "a/b/c", true)]
    [InlineData("a/+/c", "a/b/d", false)]
    [InlineData("a/#", "a", true)]
    [InlineData("a/#", "a/b/c", true)]
    [InlineData("a/+", "a/b/c", false)]
    [InlineData("a/b", "a/b/c", false)]
    public void Topic_filters_match_as_in_MQTT(string filter, string topic, bool expected) =>
        Assert.Equal(expected, MosquittoAcl.Matches(filter, topic));
}
