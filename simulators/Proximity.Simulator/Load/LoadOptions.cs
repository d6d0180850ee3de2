using Proximity.Simulator.Mqtt;

namespace Proximity.Simulator.Load;

public sealed record LoadOptions
{
    public BrokerOptions Broker { get; init; } = new();
    public int Devices { get; init; } = 1000;
    /// <summary>Index of this run's first device in the world's device order (offender and victim devices
    /// alternate): several load processes share one case, each driving its own slice of the devices.</summary>
    public int FirstDevice { get; init; }
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
    /// <summary>Write the publish → PUBACK distribution here: with the embedded broker, publish → decision for every
    /// fix (the PUBACK leaves after the grains judged the fix and recorded any alert it raised).</summary>
    public string? FixHistogramPath { get; init; }
    /// <summary>Raw-broker comparison: instead of the alerts, subscribe to every device's position topic and time
    /// publish → delivery of each fix (no processing; for a broker like Mosquitto with anonymous access).</summary>
    public bool RawSubscribe { get; init; }

    /// <summary>All devices of the world the run is a slice of: the credentials file's, else the first
    /// <see cref="FirstDevice"/> + <see cref="Devices"/> of the layout. Zones and paths are laid out for all of them.</summary>
    public int WorldDevices => Credentials?.Count ?? FirstDevice + Devices;

    /// <summary>The world index, id and secret of this run's device <paramref name="i"/> (0-based within the slice).</summary>
    public (int Index, string Id, string? Secret) Device(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, Devices);
        int index = FirstDevice + i;
        if (Credentials is { } c) return (index, c[index].Id, c[index].Secret);
        string id = LoadLayout.DeviceId(index);
        return (index, id, Layout.Secret(id));
    }

    public string? Problem() =>
        Broker.Problem()
        ?? Layout.Problem()
        ?? (Devices < 1 ? "--devices must be at least 1"
        : FirstDevice < 0 ? "--first-device must be at least 0"
        : !(Rate > 0) ? "--rate must be positive"
        : !(DurationSeconds > 0) ? "--duration must be positive"
        : ConnectConcurrency < 1 ? "--connect-concurrency must be at least 1"
        : MaxInFlight < 1 ? "--max-inflight must be at least 1"
        : Credentials is { } c && c.Count - FirstDevice < Devices
            ? FirstDevice == 0 ? $"the credentials file has {c.Count} devices, fewer than --devices {Devices}"
            : $"the credentials file has {c.Count} devices, fewer than --first-device {FirstDevice} + --devices {Devices}"
        : null);
}
