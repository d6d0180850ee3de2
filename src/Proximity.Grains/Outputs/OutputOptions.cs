using System.Diagnostics.Metrics;
using Proximity.Spatial.Bans;

namespace Proximity.Grains.Outputs;

/// <summary>Output routes (configuration section <c>Proximity:Outputs</c>).</summary>
public sealed class OutputOptions
{
    public const string Section = "Proximity:Outputs";

    public int QueueCapacity { get; set; } = 10_000;
    public int RetryAttempts { get; set; } = 3;
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Pause between rounds of retries of the same item while the route is down.</summary>
    public TimeSpan RetryPause { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>An alert that could not be delivered for this long is dropped from the route (and logged).</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan DrainOnStop { get; set; } = TimeSpan.FromSeconds(2);
    public List<WebhookOptions> Webhooks { get; set; } = [];
}

/// <summary>A dispatch system that receives alerts by HTTP POST, signed with HMAC-SHA256.</summary>
public sealed class WebhookOptions
{
    public string Name { get; set; } = "";
    public Uri? Url { get; set; }
    public string Secret { get; set; } = "";
    /// <summary>Only alerts routed to one of these recipients (default: every alert).</summary>
    public AlertRecipients Recipients { get; set; } = AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom;
}

/// <summary>Counters of the output routes (meter <c>Proximity.Outputs</c>), tagged by channel.</summary>
public sealed class OutputMetrics
{
    public const string MeterName = "Proximity.Outputs";
    private readonly Counter<long> _sent;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _failed;

    public OutputMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _sent = meter.CreateCounter<long>("proximity.output.sent", description: "items delivered, by channel");
        _dropped = meter.CreateCounter<long>("proximity.output.dropped", description: "items dropped because the channel's queue was full");
        _failed = meter.CreateCounter<long>("proximity.output.failed", description: "items given up after retrying");
    }

    public void Sent(string channel) => _sent.Add(1, new KeyValuePair<string, object?>("channel", channel));
    public void Dropped(string channel) => _dropped.Add(1, new KeyValuePair<string, object?>("channel", channel));
    public void Failed(string channel) => _failed.Add(1, new KeyValuePair<string, object?>("channel", channel));
}
