using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proximity.Api;
using Proximity.Api.Alerts;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Positions;
using Proximity.Api.Registry;

namespace Proximity.Api.Tests;

/// <summary>The API on a real Kestrel on a free loopback port (the browser test needs a real port).</summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string SigningKey = "test-signing-key-0123456789abcdef-0123456789";

    private ApiHost(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
    }

    public WebApplication App { get; }
    public Uri Address { get; }
    public IRegistry Registry => App.Services.GetRequiredService<IRegistry>();
    public IAlertDirectory Alerts => App.Services.GetRequiredService<IAlertDirectory>();
    public InMemoryPositionStore Positions => App.Services.GetRequiredService<InMemoryPositionStore>();
    public IAuditLog Audit => App.Services.GetRequiredService<IAuditLog>();

    /// <param name="services">Replaces services after the API's own (what the live pipeline would provide).</param>
    public static async Task<ApiHost> StartAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Proximity:Auth:SigningKey"] = SigningKey });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("API_TEST_LOG") == "1") builder.Logging.AddConsole();
        builder.AddProximityApi();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapProximityApi();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ApiHost(app, new Uri(address));
    }

    public static string Token(string role, string user) => DevTokens.Mint(role, user, SigningKey, TimeSpan.FromHours(1));

    /// <summary>A client for a role (null: unauthenticated). A probation officer is 'po1' unless named.</summary>
    public HttpClient Client(string? role, string? user = null)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (role is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                Token(role, user ?? (role == Roles.ProbationOfficer ? "po1" : "user-" + role)));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
