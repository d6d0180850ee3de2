namespace Proximity.Simulator.Load;

/// <summary>The result of a load run; serialised as the one JSON object of <c>--json</c>.</summary>
public sealed record LoadReport
{
    public int Devices { get; init; }
    /// <summary>World index of the run's first device (<c>--first-device</c>).</summary>
    public int FirstDevice { get; init; }
    public int Connected { get; init; }
    public double ConnectSeconds { get; init; }
    public double TargetRate { get; init; }
    public double DurationSeconds { get; init; }
    public long FixesSent { get; init; }
    public long FixesAcked { get; init; }
    /// <summary>Fixes acknowledged by the broker per second of the publishing phase.</summary>
    public double FixesPerSecond { get; init; }
    /// <summary>Alerts raised by this run's fixes, each counted once (not again when updated, escalated or cleared).</summary>
    public long Alerts { get; init; }
    public long AlertsCleared { get; init; }
    /// <summary>Alerts whose deciding fix was found among this run's publishes (exact latency); the rest use the device time.</summary>
    public long AlertsMatched { get; init; }
    /// <summary>Alert messages not counted: decided before this run (escalations, old episodes) or a repeat of one already counted.</summary>
    public long AlertsOther { get; init; }
    /// <summary>Publish → alert received, milliseconds.</summary>
    public double? P50Ms { get; init; }
    public double? P90Ms { get; init; }
    public double? P99Ms { get; init; }
    public double? P999Ms { get; init; }
    public double? MaxMs { get; init; }
    /// <summary>Publish → PUBACK, milliseconds (with the embedded broker: publish → decision).</summary>
    public double? AckP50Ms { get; init; }
    public double? AckP99Ms { get; init; }
    public double? AckP999Ms { get; init; }
    /// <summary>Raw-broker mode: fixes delivered to the position subscriber, per second of the publishing phase, and publish → delivery.</summary>
    public long? RawReceived { get; init; }
    public double? RawPerSecond { get; init; }
    public double? RawP50Ms { get; init; }
    public double? RawP99Ms { get; init; }
    public double? RawP999Ms { get; init; }
    public long Errors { get; init; }
    public long ConnectErrors { get; init; }
    public long PublishErrors { get; init; }
    public long Commands { get; init; }
    public long Notifies { get; init; }
    public long ClientMemoryBytes { get; init; }
}
