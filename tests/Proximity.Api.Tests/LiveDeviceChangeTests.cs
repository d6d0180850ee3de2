using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MQTTnet;
using Proximity.Api.Auth;
using Proximity.Grains.Durability;
using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Storage.Tests;

namespace Proximity.Api.Tests;

/// <summary>
/// Devices registered, assigned, re-keyed or retired through the API reach the broker and the grains while the
/// node runs: a new device logs in at once, a re-keyed or retired one loses its open connection and its old secret,
/// and with PostgreSQL a change made through another node's API reaches this node's broker too.
/// </summary>
public sealed class LiveDeviceChangeTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly CaseFile Case = new(
        [new PersonSpec("O1", [new DeviceSpec("A1", "ankle-secret")]), new PersonSpec("O2", [])],
        [new PersonSpec("V1", [new DeviceSpec("P1", "phone-secret")])],
        [new ContactBan { Id = "ban1", OffenderId = "O1", VictimId = "V1", MinDistanceMeters = 500, WarningDistanceMeters = 1000 }],
        []);

    [Fact]
    public async Task A_device_registered_through_the_api_logs_in_at_once_and_loses_its_connection_when_re_keyed_or_retired()
    {
        await using var node = await LiveNode.StartAsync(Case);
        using var admin = node.Client(Roles.Admin, "admin-1");
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A2", "A2", "guess"));

        string secret = await SecretOf(await admin.PostAsJsonAsync("/api/devices", new { id = "A2", kind = "AnkleMonitor", personId = "O1" }, Ct));
        await using (var ankle = await MqttTestClient.ConnectWorkingAsync(node.MqttPort, "A2", secret))
        {
            // Its fixes are O1's: judged and kept in O1's track.
            var published = await ankle.PublishAsync("proximity/v1/devices/A2/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow.AddSeconds(-1), 3000));
            Assert.True(published.IsSuccess, published.ReasonString);
            using var centre = node.Client(Roles.MonitoringCentre, "operator-1");
            var position = await centre.GetFromJsonAsync<JsonElement>("/api/offenders/O1/position?reason=device%20check", Ct);
            Assert.Contains("\"A2\"", position.GetRawText(), StringComparison.Ordinal);
            // Its health as its grain sees it (no position in it).
            await Until(async () => (await centre.GetFromJsonAsync<JsonElement>("/api/devices/A2/health", Ct)).GetProperty("lastSeq").ValueKind == JsonValueKind.Number,
                "the device's grain heard of its fix");
            var health = await centre.GetFromJsonAsync<JsonElement>("/api/devices/A2/health", Ct);
            Assert.Equal(1, health.GetProperty("lastSeq").GetInt64());
            Assert.Equal(80, health.GetProperty("batteryPercent").GetInt32());
            Assert.False(health.GetProperty("offline").GetBoolean());
            Assert.Equal(["batteryPercent", "bodyContactLost", "deviceId", "lastFixAt", "lastMessageAt", "lastSeq", "messages", "noFix", "offline", "strapOpen"],
                health.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)); // no position among them
            Assert.Equal(HttpStatusCode.NotFound, (await centre.GetAsync("/api/devices/nobody/health", Ct)).StatusCode);

            string rekeyed = await SecretOf(await admin.PostAsync("/api/devices/A2/rotate-secret", null, Ct));
            await ankle.WaitDisconnected("the connection made with the old secret ended");
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A2", "A2", secret));
            secret = rekeyed;
        }

        await using var again = await MqttTestClient.ConnectWorkingAsync(node.MqttPort, "A2", secret);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/devices/A2/retire", null, Ct)).StatusCode);
        await again.WaitDisconnected("the retired device's connection ended");
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A2", "A2", secret));
    }

    [Fact]
    public async Task An_ankle_monitor_taken_off_one_offender_and_fitted_to_another_keeps_its_secret_and_reports_for_the_new_one()
    {
        await using var node = await LiveNode.StartAsync(Case);
        using var admin = node.Client(Roles.Admin, "admin-1");
        string secret = await SecretOf(await admin.PostAsJsonAsync("/api/devices", new { id = "A3", kind = "AnkleMonitor" }, Ct));
        // Registered, not fitted: nobody's device, so it cannot log in yet.
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A3", "A3", secret));

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/devices/A3/assign", new { personId = "O1" }, Ct)).StatusCode);
        await using (var fitted = await MqttTestClient.ConnectWorkingAsync(node.MqttPort, "A3", secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/devices/A3/assign", new { personId = (string?)null }, Ct)).StatusCode);
            await fitted.WaitDisconnected("the connection of the unassigned device ended");
            Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A3", "A3", secret));
        }

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/devices/A3/assign", new { personId = "O2" }, Ct)).StatusCode);
        await using var refitted = await MqttTestClient.ConnectWorkingAsync(node.MqttPort, "A3", secret);
        Assert.True((await refitted.PublishAsync("proximity/v1/devices/A3/position", MqttTestClient.Fix(5, DateTimeOffset.UtcNow.AddSeconds(-1), 0))).IsSuccess);
        using var centre = node.Client(Roles.MonitoringCentre, "operator-1");
        Assert.Contains("\"A3\"", (await centre.GetFromJsonAsync<JsonElement>("/api/offenders/O2/position?reason=device%20check", Ct)).GetRawText(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_postgresql_a_device_registered_and_retired_through_another_nodes_api_reaches_this_nodes_broker()
    {
        string connection = await postgres.Server.CreateDatabaseAsync(migrate: true);
        await using var node = await LiveNode.StartAsync(Case, new StorageChoice(true, connection, false));
        await using var other = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["Proximity:Storage"] = "postgres", ["Proximity:ConnectionString"] = connection, ["Proximity:SecretHashIterations"] = "1000",
        });
        using var admin = other.Client(Roles.Admin, "admin-1");
        string secret = await SecretOf(await admin.PostAsJsonAsync("/api/devices", new { id = "A4", kind = "AnkleMonitor", personId = "O1" }, Ct));

        await Until(async () => await MqttTestClient.TryConnectAsync(node.MqttPort, "A4", "A4", secret) == MqttClientConnectResultCode.Success,
            "the device registered on the other node logs in here");
        await using var ankle = await MqttTestClient.ConnectWorkingAsync(node.MqttPort, "A4", secret);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/devices/A4/retire", null, Ct)).StatusCode);
        await ankle.WaitDisconnected("the device retired on the other node lost its connection here");
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(node.MqttPort, "A4", "A4", secret));
    }

    private static async Task<string> SecretOf(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("secret").GetString()!;
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 30 s: {what}");
            await Task.Delay(100, Ct);
        }
    }
}
