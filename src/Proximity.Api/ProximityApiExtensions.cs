using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;
using Microsoft.OpenApi;
using Proximity.Api.Alerts;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Endpoints;
using Proximity.Api.Monitoring;
using Proximity.Api.Positions;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Api.Storage;
using Proximity.Api.Web;
using Proximity.Storage;

namespace Proximity.Api;

/// <summary>Wires the HTTP API, its authentication and the web pages into a host.</summary>
public static class ProximityApiExtensions
{
    /// <summary>
    /// Registers the API. Stores registered before this call win (grains, PostgreSQL); otherwise the in-memory
    /// ones are used. Fails at start when no token can be validated (no signing key outside Development, no authority).
    /// </summary>
    public static WebApplicationBuilder AddProximityApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        if (string.Equals(builder.Configuration["Proximity:Storage"], "postgres", StringComparison.OrdinalIgnoreCase))
        {
            // The registry, location data and the audit trail are durable; alerts are the grains' (with their outbox).
            string connection = builder.Configuration["Proximity:ConnectionString"] is { Length: > 0 } cs ? cs
                : throw new InvalidOperationException("Proximity:Storage is postgres but Proximity:ConnectionString is not set.");
            if (!services.Any(d => d.ServiceType == typeof(Proximity.Storage.ProximityDatabase)))
                services.AddProximityStorage(connection);
            services.TryAddSingleton<IAuditLog, PostgresAuditLog>();
            services.TryAddSingleton<IPositionReader, PostgresPositionReader>();
            int iterations = builder.Configuration.GetValue("Proximity:SecretHashIterations", PostgresRegistry.DefaultSecretIterations);
            services.TryAddSingleton<PostgresRegistry>(sp => new PostgresRegistry(sp.GetRequiredService<Proximity.Storage.Registry.RegistryStore>(),
                sp.GetRequiredService<Proximity.Storage.Bans.BanStore>(), sp.GetRequiredService<TimeProvider>(), iterations));
            services.TryAddSingleton<IRegistry>(sp => sp.GetRequiredService<PostgresRegistry>());
        }
        services.TryAddSingleton<IRegistry, InMemoryRegistry>();
        services.TryAddSingleton<IDeviceHealth, NoDeviceHealth>();
        services.TryAddSingleton<IMonitoringStatus, UnknownMonitoringStatus>();
        services.TryAddSingleton(sp => new InMemoryAlertDirectory(sp.GetRequiredService<TimeProvider>(), sp.GetService<IAlertHandling>()));
        services.TryAddSingleton<IAlertDirectory>(sp => sp.GetRequiredService<InMemoryAlertDirectory>());
        services.TryAddSingleton<InMemoryPositionStore>(_ => new InMemoryPositionStore());
        services.TryAddSingleton<IPositionReader>(sp => sp.GetRequiredService<InMemoryPositionStore>());
        services.TryAddSingleton<IAuditLog>(sp => new InMemoryAuditLog(sp.GetRequiredService<TimeProvider>()));
        services.TryAddScoped<Access>();
        services.TryAddSingleton<BanPlaceIndex>();
        services.Configure<ProximityApiOptions>(builder.Configuration.GetSection("Proximity:Map"));

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true); // so bad bodies get a problem detail
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiProblemHandler>();
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Proximity API";
            document.Info.Description = "Bans, people, devices, alerts, street lookup and audit. Every /api call needs a bearer token " +
                "(roles: " + string.Join(", ", Roles.All) + "); reads of positions and tracks need a reason (query 'reason' or header 'X-Reason').";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", BearerFormat = "JWT",
                Description = "A token from the identity provider, or for development: proximity token --role ROLE --user NAME",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] }];
            return Task.CompletedTask;
        }));

        var auth = builder.Configuration.GetSection(ProximityAuthOptions.Section).Get<ProximityAuthOptions>() ?? new();
        string? key = auth.EffectiveSigningKey(builder.Environment.IsDevelopment());
        if (key is null && string.IsNullOrEmpty(auth.Authority))
            throw new InvalidOperationException(
                "No way to validate tokens: set Proximity:Auth:SigningKey (at least 32 characters) or Proximity:Auth:Authority " +
                "(the development key is used only when ASPNETCORE_ENVIRONMENT=Development).");
        // Checked now: the token handler would find a short key only at the first request, and answer every one with 500.
        if (key is { Length: < DevTokens.MinKeyLength })
            throw new InvalidOperationException(
                $"Proximity:Auth:SigningKey has {key.Length} characters; at least {DevTokens.MinKeyLength} are needed (HMAC-SHA256).");
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            if (!string.IsNullOrEmpty(auth.Authority))
            {
                o.Authority = auth.Authority;
                o.Audience = auth.AuthorityAudience;
            }
            o.TokenValidationParameters = new TokenValidationParameters
            {
                NameClaimType = "sub",
                RoleClaimType = "role",
                ValidIssuers = [ProximityAuthOptions.Issuer],
                ValidAudiences = string.IsNullOrEmpty(auth.AuthorityAudience) ? [ProximityAuthOptions.Audience] : [ProximityAuthOptions.Audience, auth.AuthorityAudience],
                IssuerSigningKeys = key is null ? [] : [DevTokens.Key(key)],
                ClockSkew = TimeSpan.FromSeconds(30),
            };
        });
        services.AddAuthorization(o =>
        {
            foreach (var (name, roles) in Roles.Policies)
                o.AddPolicy(name, p => p.RequireAuthenticatedUser().RequireRole(roles));
        });
        return builder;
    }

    /// <summary>Maps <c>/api/**</c>, <c>/openapi/v1.json</c> and the web pages at <c>/</c>.</summary>
    public static WebApplication MapProximityApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();

        var api = app.MapGroup("/api");
        PeopleEndpoints.Map(api);
        PositionEndpoints.Map(api);
        DeviceEndpoints.Map(api);
        BanEndpoints.Map(api);
        AlertEndpoints.Map(api);
        MonitoringEndpoints.Map(api);
        LookupEndpoints.Map(api);
        AuditEndpoints.Map(api);
        EmbeddedPages.Map(app);
        return app;
    }
}
