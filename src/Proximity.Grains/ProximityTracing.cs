using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace Proximity.Grains;

/// <summary>
/// One trace per device message: ingest starts it, Orleans carries it through the device, offender and alert
/// grains (activity propagation), and the alert's recording and publishing end it.
/// </summary>
public static class ProximityTracing
{
    public const string SourceName = "Proximity";

    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>Traces are exported (over OTLP) only when this is set.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether traces go anywhere: without an exporter nothing builds Activities or carries them between grains.</summary>
    public static bool IsExported(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]);
}
