using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Proximity.Api.Auth;

namespace Proximity.Api.Tests;

public sealed class HostTests(CaseFixture fixture) : IClassFixture<CaseFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenApi_document_lists_the_issue_paths()
    {
        using var client = fixture.Host.Client(null);
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", Ct);
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var p in new[] { "/api/offenders", "/api/victims", "/api/devices", "/api/bans", "/api/bans/feasibility", "/api/alerts",
                     "/api/alerts/{id}/acknowledge", "/api/alerts/{id}/dispatch", "/api/alerts/{id}/resolve", "/api/alerts/stream",
                     "/api/lookup/person/{id}", "/api/lookup/place", "/api/audit" })
            Assert.True(paths.Contains(p) || paths.Contains(p + "/"), $"{p} missing from the OpenAPI document");
        var bearer = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Pages_and_vendored_leaflet_are_served_from_the_assembly()
    {
        using var client = fixture.Host.Client(null);
        var index = await client.GetAsync("/", Ct);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", index.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        foreach (var path in new[] { "/control-room.html", "/probation.html", "/app.js", "/lib/leaflet/leaflet.js", "/lib/leaflet/leaflet.css", "/lib/leaflet/LICENSE" })
            Assert.True((await client.GetAsync(path, Ct)).IsSuccessStatusCode, path);
        var missing = await client.GetAsync("/nope.html", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/nothing-here", Ct)).StatusCode);
    }

    [Fact]
    public async Task Tokens_signed_with_another_key_or_expired_are_refused()
    {
        using var client = new HttpClient { BaseAddress = fixture.Host.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            DevTokens.Mint(Roles.Auditor, "mallory", "another-signing-key-0123456789abcdef-xyz", TimeSpan.FromHours(1)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/audit", Ct)).StatusCode);

        var past = new FixedClock(DateTimeOffset.UtcNow.AddHours(-3));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            DevTokens.Mint(Roles.Auditor, "late", ApiHost.SigningKey, TimeSpan.FromHours(1), past));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/audit", Ct)).StatusCode);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/audit", Ct)).StatusCode);
    }

    [Fact]
    public void Minting_refuses_unknown_roles_and_short_keys()
    {
        Assert.Throws<ArgumentException>(() => DevTokens.Mint("Superuser", "u", ApiHost.SigningKey, TimeSpan.FromHours(1)));
        Assert.Throws<ArgumentException>(() => DevTokens.Mint(Roles.Admin, "u", "short", TimeSpan.FromHours(1)));
        Assert.Throws<ArgumentException>(() => DevTokens.Mint(Roles.Admin, " ", ApiHost.SigningKey, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Outside_development_a_host_without_key_or_authority_does_not_start()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddProximityApi());
        Assert.Contains("Proximity:Auth:SigningKey", e.Message, StringComparison.Ordinal);

        var dev = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        dev.AddProximityApi(); // the development key is accepted in Development
    }

    [Fact]
    public void A_signing_key_too_short_to_check_tokens_with_stops_the_host_at_start()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration["Proximity:Auth:SigningKey"] = "short";
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddProximityApi());
        Assert.Contains("has 5 characters; at least 32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_command_prints_a_token_the_api_accepts()
    {
        var output = new StringWriter();
        var original = Console.Out;
        int rc;
        // Only this test writes to the console.
        Console.SetOut(output);
        try { rc = await Proximity.Server.Commands.CommandLine.RunAsync(["token", "--role", "Auditor", "--user", "cli-user", "--key", ApiHost.SigningKey]); }
        finally { Console.SetOut(original); }
        Assert.Equal(0, rc);
        using var client = new HttpClient { BaseAddress = fixture.Host.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", output.ToString().Trim());
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me", Ct);
        Assert.Equal("cli-user", me.GetProperty("user").GetString());
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
