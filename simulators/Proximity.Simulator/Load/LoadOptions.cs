using Proximity.Simulator.Mqtt;

namespace Proximity.Simulator.Load;

public sealed record LoadOptions
{
    public BrokerOptions Broker { get; init; } = new();
    public int Devices { get; init; } = 1000;
    /// <summary>Fixes per second over all devices.</summary>
    public double Rate { get; init; } = 1000;
    public double DurationSeconds { get; init; } = 30;
    /// <summary>Connections being set up at the same time.</summary>
    public int ConnectConcurrency { get; init; } = 200;
    /// <summary>Publishes awaiting their PUBACK at most, over all devices (back-pressure beyond).</summary>
    public int MaxInFlight { get; init; } = 20_000;
    /// <summary>Subscribe every device to its command and notify topics, as real devices do.</summary>
    public bool Subscribe { get; init; } = true;
    public string? AlertsUser { get; init; }
    public string? AlertsPassword { get; init; }
    /// <summary>How long to wait for alerts after the last publish.</summary>
    public double LingerSeconds { get; init; } = 2;
    public LoadLayout Layout { get; init; } = new();
    /// <summary>Device ids and secrets (from a case file); null = the layout's generated ones.</summary>
    public IReadOnlyList<(string Id, string? Secret)>? Credentials { get; init; }
    public bool Progress { get; init; } = true;
    public TextWriter ProgressWriter { get; init; } = Console.Error;
    /// <summary>Write the publish → alert latency distribution here (HdrHistogram percentile text, ms).</summary>
    public string? HistogramPath { get; init; }

    public string? Problem() =>
        Broker.Problem()
        ?? Layout.Problem()
        ?? (Devices < 1 ? "--devices must be at least 1"
        : !(Rate > 0) ? "--rate must be positive"
        : !(DurationSeconds > 0) ? "--duration must be positive"
        : ConnectConcurrency < 1 ? "--connect-concurrency must be at least 1"
        : MaxInFlight < 1 ? "--max-inflight must be at least 1"
        : Credentials is { } c && c.Count < Devices ? $"the credentials file has {c.Count} devices, fewer than --devices {Devices}"
        : null);
}
