using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proximity.Grains;
using Proximity.Ingest;
using Proximity.Protocol;

namespace Proximity.EndToEnd.Tests;

/// <summary>
/// The live service wired as <c>proximity run --case</c> wires it (silo, embedded broker, outputs), in process
/// on free loopback ports, with extra configuration (for example a short reporting profile).
/// </summary>
public sealed class LiveServer : IAsyncDisposable
{
    private readonly IHost _host;

    private LiveServer(IHost host, int mqttPort)
    {
        _host = host;
        MqttPort = mqttPort;
    }

    public int MqttPort { get; }

    public static async Task<LiveServer> StartAsync(CaseFile caseFile, IReadOnlyDictionary<string, string?> configuration)
    {
        int mqttPort = FreePort();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning);
        var settings = new Dictionary<string, string?>
        {
            ["Proximity:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Proximity:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
            ["Proximity:Silo:ClusterId"] = "e2e-" + Guid.NewGuid().ToString("N")[..8],
            ["Proximity:SecretHashIterations"] = "1000",
        };
        foreach (var (key, value) in configuration) settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddProximitySilo(caseFile);
        builder.AddProximityIngest(o =>
        {
            o.Port = mqttPort;
            o.BindAddress = "127.0.0.1";
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<IIngestStatus>().WhenReady.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new LiveServer(host, mqttPort);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(30));
        _host.Dispose();
    }
}
