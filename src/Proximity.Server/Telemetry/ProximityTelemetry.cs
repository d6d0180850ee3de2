using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Proximity.Server.Telemetry;

/// <summary>
/// OpenTelemetry for a Proximity node: metrics of the <c>Proximity</c> meters (and Orleans, ASP.NET Core,
/// the runtime) served to Prometheus at <c>/metrics</c>; when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, traces
/// (the <c>Proximity</c> activity source, Orleans, ASP.NET Core) and logs sent over OTLP to a collector.
/// Metrics are not sent over OTLP: Prometheus scrapes every node, so each series exists once.
/// </summary>
public static class ProximityTelemetry
{
    /// <summary>The meter of the service (configuration contract); feature meters are named <c>Proximity.*</c>.</summary>
    public const string MeterName = "Proximity";

    public const string ActivitySourceName = Proximity.Grains.ProximityTracing.SourceName;

    public const string MetricsPath = "/metrics";

    /// <summary>Orleans' own meter (cluster size, activations, messaging, storage errors) and trace sources.</summary>
    private static readonly string[] OrleansMeters = ["Microsoft.Orleans"];
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    /// <summary>Where the pipeline starts a trace: one per MQTT message, continued through the grains to the alert.</summary>
    public static ActivitySource Source => Proximity.Grains.ProximityTracing.Source;

    public static TBuilder AddProximityTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        bool otlp = Proximity.Grains.ProximityTracing.IsExported(builder.Configuration);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(
                serviceName: builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "proximity",
                serviceInstanceId: Environment.MachineName))
            .WithMetrics(metrics => metrics
                .AddMeter(MeterName, MeterName + ".*")
                .AddMeter(OrleansMeters)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (otlp)
        {
            // Traces only when they go somewhere: a listener makes every message and grain call build an Activity.
            telemetry.WithTracing(tracing => tracing
                .AddSource(ActivitySourceName, ActivitySourceName + ".*")
                .AddSource(OrleansSources)
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments(MetricsPath) && !context.Request.Path.StartsWithSegments("/health"))
                .AddOtlpExporter());
            telemetry.WithLogging(logging => logging.AddOtlpExporter(), options =>
            {
                options.IncludeFormattedMessage = true;
                options.IncludeScopes = true;
            });
        }
        return builder;
    }

    /// <summary>The Prometheus scrape endpoint, <c>/metrics</c> on the HTTP port.</summary>
    public static IEndpointConventionBuilder MapProximityMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(MetricsPath);
}
