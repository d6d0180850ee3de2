using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Storage;
using Proximity.Spatial.Decisions;
using Proximity.Storage;
using Proximity.Storage.Positions;
using Proximity.Storage.Tests;

namespace Proximity.Api.Tests;

/// <summary>With Proximity:Storage=postgres, position reads and the audit trail use a real PostgreSQL.</summary>
public sealed class PostgresBackedTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private ApiHost _host = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        string connection = await postgres.Server.CreateDatabaseAsync(migrate: true);
        _host = await ApiHost.StartAsync(new Dictionary<string, string?>
        {
            ["Proximity:Storage"] = "postgres",
            ["Proximity:ConnectionString"] = connection,
        });
        await Seed.CaseAsync(_host);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Track_reads_come_from_the_position_history_and_are_audited_in_the_hash_chain()
    {
        Assert.IsType<PostgresPositionReader>(_host.App.Services.GetRequiredService<Positions.IPositionReader>());
        Assert.IsType<PostgresAuditLog>(_host.App.Services.GetRequiredService<IAuditLog>());

        var store = _host.App.Services.GetRequiredService<PositionStore>();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        var fixes = Enumerable.Range(0, 5).Select(i => new StoredFix(
            new PositionFix("dev-o1", 100 + i, t0.AddMinutes(i), 52.35 + i * 0.001, 4.89, 11), t0.AddMinutes(i).AddSeconds(1), "off-1")).ToList();
        await store.AppendBatchAsync(fixes, Ct);
        await store.AppendBatchAsync([fixes[2]], Ct); // redelivered: shown once

        using var centre = _host.Client(Roles.MonitoringCentre, "op-pg");
        var track = await centre.GetFromJsonAsync<JsonElement>("/api/offenders/off-1/track?reason=pg+check", Ct);
        Assert.Equal([100L, 101, 102, 103, 104], track.GetProperty("positions").EnumerateArray().Select(p => p.GetProperty("seq").GetInt64()).ToArray());
        var last = await centre.GetFromJsonAsync<JsonElement>("/api/offenders/off-1/position?reason=pg+check", Ct);
        Assert.Equal(104, last.GetProperty("seq").GetInt64());
        Assert.Equal(HttpStatusCode.NoContent, (await centre.GetAsync("/api/offenders/off-2/position?reason=pg+check", Ct)).StatusCode);

        using var auditor = _host.Client(Roles.Auditor, "aud");
        var log = await auditor.GetFromJsonAsync<JsonElement>("/api/audit?user=op-pg&subject=offender/", Ct);
        var actions = log.EnumerateArray().Select(r => (r.GetProperty("action").GetString(), r.GetProperty("subject").GetString(), r.GetProperty("reason").GetString(), r.GetProperty("roles").GetString())).ToList();
        Assert.Equal(
            [("read-position", "offender/off-2", "pg check", "MonitoringCentre"), ("read-position", "offender/off-1", "pg check", "MonitoringCentre"),
             ("read-track", "offender/off-1", "pg check", "MonitoringCentre")],
            actions);

        var chain = await _host.App.Services.GetRequiredService<Proximity.Storage.Audit.AuditLog>().VerifyAsync(Ct);
        Assert.True(chain.Intact, chain.Problem);
        Assert.True(chain.RecordsChecked >= 3);
    }

    [Fact]
    public void Postgres_storage_without_a_connection_string_does_not_start()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(new Microsoft.AspNetCore.Builder.WebApplicationOptions { EnvironmentName = "Development" });
        builder.Configuration["Proximity:Storage"] = "postgres";
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddProximityApi());
        Assert.Contains("Proximity:ConnectionString", e.Message, StringComparison.Ordinal);
    }
}
