using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Proximity.Grains.Outputs;

namespace Proximity.Ingest;

public static class IngestHosting
{
    /// <summary>
    /// MQTT ingest: the embedded broker (default) or a client of an external broker (<c>Proximity:Ingest:Mode</c>
    /// = External), and the MQTT routes of the outputs (alerts topic, device notify/command). Call after
    /// <c>AddProximitySilo</c>, so the broker starts once the silo runs.
    /// </summary>
    public static IHostApplicationBuilder AddProximityIngest(this IHostApplicationBuilder builder, Action<IngestOptions>? configure = null)
    {
        var options = builder.Configuration.GetSection(IngestOptions.Section).Get<IngestOptions>() ?? new IngestOptions();
        configure?.Invoke(options);
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(new IngestOptionsAccessor(options));
        services.AddSingleton<IngestMetrics>();
        services.AddSingleton<IngestRouter>();
        if (options.Mode == IngestMode.External)
        {
            services.AddSingleton<BrokerDeliveries>();
            services.AddSingleton<ExternalBrokerIngest>();
            // The silo is named after its MQTT session, so the survivors know which session a dead node leaves behind.
            services.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = options.ClientId);
            services.AddHostedService<OrphanSessionAdopter>();
            // One broker outage must not report every device silent at once.
            services.AddHostedService<DeviceFeedReporter>();
        }
        else services.AddSingleton<EmbeddedBroker>();
        Func<IServiceProvider, object> ingest = options.Mode == IngestMode.External
            ? sp => sp.GetRequiredService<ExternalBrokerIngest>()
            : sp => sp.GetRequiredService<EmbeddedBroker>();
        services.AddSingleton(sp => (IMqttPublisher)ingest(sp));
        services.AddSingleton(sp => (IIngestStatus)ingest(sp));
        services.AddSingleton(sp => (IDeviceSessions)ingest(sp));
        services.AddSingleton(sp => (IHostedService)ingest(sp));
        return builder;
    }
}
