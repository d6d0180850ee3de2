using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Grains.Outputs;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Tests;

public sealed class OutputTests
{
    private static Alert NewAlert(string id, AlertRecipients recipients) => new()
    {
        Id = id, Type = AlertType.ContactBanBreach, Severity = AlertSeverity.Critical, OffenderId = "O", VictimId = "V",
        RaisedAt = DateTimeOffset.UtcNow, DecidedAt = DateTimeOffset.UtcNow, Recipients = recipients,
        Evidence = new AlertEvidence { Rule = "Certain", Summary = "test", Fixes = [] },
    };

    private static ServiceProvider Outputs(RecordingMqtt mqtt, params WebhookOptions[] hooks) => new ServiceCollection()
        .AddLogging().AddMetrics()
        .Configure<OutputOptions>(o =>
        {
            o.Webhooks = [.. hooks];
            o.RetryDelay = TimeSpan.FromMilliseconds(10);
            o.RetryPause = TimeSpan.FromMilliseconds(100);
            o.SendTimeout = TimeSpan.FromSeconds(5);
        })
        .AddKeyedSingleton(ProximitySilo.ClockKey, TimeProvider.System)
        .AddSingleton<IMqttPublisher>(mqtt)
        .AddSingleton<OutputMetrics>()
        .AddSingleton<ProximityOutputs>()
        .BuildServiceProvider();

    [Fact]
    public async Task A_failing_webhook_does_not_hold_up_the_alerts_topic()
    {
        var mqtt = new RecordingMqtt();
        // Nothing listens on this port: every POST fails, and the webhook route keeps retrying its first alert.
        await using var services = Outputs(mqtt, new WebhookOptions { Name = "dead", Url = new Uri($"http://127.0.0.1:{FreePort()}/"), Secret = "s" });
        var outputs = services.GetRequiredService<ProximityOutputs>();
        await outputs.StartAsync(TestContext.Current.CancellationToken);
        for (int i = 0; i < 50; i++) outputs.Publish(NewAlert($"a{i}", AlertRecipients.MonitoringCentre));
        await mqtt.WaitFor(m => m.Payload.Contains("\"id\":\"a49\"", StringComparison.Ordinal), "the 50th alert");
        Assert.Equal(50, mqtt.Messages.Count(m => m.Topic == "proximity/v1/alerts/critical"));
        await outputs.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Webhooks_get_the_alerts_routed_to_them_signed_with_hmac_sha256()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var mqtt = new RecordingMqtt();
        await using var services = Outputs(mqtt, new WebhookOptions
        {
            Name = "police", Url = new Uri($"http://127.0.0.1:{port}/alerts"), Secret = "webhook-secret", Recipients = AlertRecipients.PoliceControlRoom,
        });
        var outputs = services.GetRequiredService<ProximityOutputs>();
        await outputs.StartAsync(TestContext.Current.CancellationToken);
        outputs.Publish(NewAlert("centre-only", AlertRecipients.MonitoringCentre));
        outputs.Publish(NewAlert("police-too", AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom));

        var context = await listener.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        string body = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
        string ts = context.Request.Headers["X-Proximity-Timestamp"]!;
        string signature = context.Request.Headers["X-Proximity-Signature"]!;
        context.Response.StatusCode = 204;
        context.Response.Close();

        Assert.Equal("police-too", AlertJson.Deserialize(body)!.Id); // the monitoring-centre-only alert is not routed here
        string expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("webhook-secret"), Encoding.UTF8.GetBytes(ts + "." + body)));
        Assert.Equal(expected, signature);
        Assert.Equal("application/json", context.Request.ContentType);
        await outputs.StopAsync(TestContext.Current.CancellationToken);
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
