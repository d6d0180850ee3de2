using System.Diagnostics;

namespace Proximity.Grains;

/// <summary>
/// One trace per device message: ingest starts it, Orleans carries it through the device, offender and alert
/// grains (activity propagation), and the alert's recording and publishing end it.
/// </summary>
public static class ProximityTracing
{
    public const string SourceName = "Proximity";

    public static ActivitySource Source { get; } = new(SourceName);
}
