using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;
using Proximity.Ingest;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Server.Demo;

/// <summary>The demo's people, devices, ban and a control-room integration, with secrets made up at start.</summary>
public sealed record DemoSetup(string AnkleSecret, string PhoneSecret, string IntegrationSecret)
{
    public const string Offender = "demo-offender", Victim = "demo-victim", Ankle = "demo-ankle", Phone = "demo-phone", Integration = "demo-meldkamer";

    public static DemoSetup Create() => new(Secret(), Secret(), Secret());

    public CaseFile MergeInto(CaseFile c) => new(
        [.. c.Offenders, new PersonSpec(Offender, [new DeviceSpec(Ankle, AnkleSecret)])],
        [.. c.Victims, new PersonSpec(Victim, [new DeviceSpec(Phone, PhoneSecret)])],
        [.. c.Bans, new ContactBan
        {
            Id = "demo-contact-ban", OffenderId = Offender, VictimId = Victim,
            MinDistanceMeters = 500, WarningDistanceMeters = 1000, MonitoringLevel = 3,
        }],
        [.. c.Integrations, new IntegrationSpec(Integration, IntegrationSecret)]);

    private static string Secret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}

/// <summary>
/// Simulated devices for <c>proximity run --demo</c>: a victim's phone at the Dam in Amsterdam and an ankle
/// monitor approaching from 1.3 km east at 15 m/s, turning back at 150 m, over and over. They speak the device
/// protocol over MQTT to the embedded broker like real devices.
/// </summary>
public sealed class DemoDevices(DemoSetup demo, IngestOptions ingest, IIngestStatus status, TimeProvider time, ILogger<DemoDevices> logger) : BackgroundService
{
    private const double VictimLat = 52.37310, VictimLon = 4.89260;
    private const double MetersPerDegreeLat = 111_320;
    private static readonly double MetersPerDegreeLon = 111_320 * Math.Cos(VictimLat * Math.PI / 180);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ct = stoppingToken;
        await status.WhenReady.WaitAsync(ct);
        logger.LogInformation(
            "demo: watch the alerts with: mosquitto_sub -h localhost -p {Port} -V mqttv5 -i {Id} -u {Id} -P {Secret} -t 'proximity/v1/alerts/#' -v",
            ingest.Port, DemoSetup.Integration, DemoSetup.Integration, demo.IntegrationSecret);

        using var ankle = await ConnectAsync(DemoSetup.Ankle, demo.AnkleSecret, ct);
        using var phone = await ConnectAsync(DemoSetup.Phone, demo.PhoneSecret, ct);
        phone.ApplicationMessageReceivedAsync += e =>
        {
            logger.LogInformation("demo: the victim's phone got {Topic}: {Payload}", e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        await phone.SubscribeAsync($"proximity/v1/devices/{DemoSetup.Phone}/notify", MqttQualityOfServiceLevel.AtLeastOnce, ct);

        long seq = 0;
        double distance = 1300, speed = -15;
        var random = new Random();
        while (!ct.IsCancellationRequested)
        {
            seq++;
            distance += speed;
            if (distance < 150) speed = 15;
            if (distance > 1600) speed = -15;
            var now = time.GetUtcNow();
            await PublishAsync(ankle, DemoSetup.Ankle, Fix(seq, now, VictimLat + Noise(random), VictimLon + distance / MetersPerDegreeLon, 8), ct);
            if (seq % 5 == 1)
                await PublishAsync(phone, DemoSetup.Phone, Fix(seq, now, VictimLat + Noise(random), VictimLon + Noise(random), 10), ct);
            await Task.Delay(TimeSpan.FromSeconds(1), time, ct);
        }
    }

    private static double Noise(Random r) => (r.NextDouble() - 0.5) * 6 / MetersPerDegreeLat;

    private static string Fix(long seq, DateTimeOffset at, double lat, double lon, double acc) => string.Format(CultureInfo.InvariantCulture,
        "{{\"seq\":{0},\"ts\":\"{1:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{2:F6},\"lon\":{3:F6},\"acc\":{4},\"bat\":90,\"src\":\"gps\"}}",
        seq, at.UtcDateTime, lat, lon, acc);

    private async Task<IMqttClient> ConnectAsync(string id, string secret, CancellationToken ct)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", ingest.Port).WithClientId(id).WithCredentials(id, secret)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build();
        await client.ConnectAsync(options, ct);
        logger.LogInformation("demo: device {Device} connected", id);
        return client;
    }

    private async Task PublishAsync(IMqttClient client, string device, string json, CancellationToken ct)
    {
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"proximity/v1/devices/{device}/position")
            .WithPayload(Encoding.UTF8.GetBytes(json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);
        if (!result.IsSuccess) logger.LogWarning("demo: {Device} publish refused: {Reason}", device, result.ReasonCode);
    }
}
