using Proximity.Server.Commands;
using Proximity.Storage.Audit;

namespace Proximity.Storage.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class CommandTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    protected override bool Migrate => false;

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (await CommandLine.RunAsync(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    [Fact]
    public async Task Db_migrate_creates_the_schema_and_a_second_run_changes_nothing()
    {
        var first = await RunAsync("db", "migrate", "--connection", ConnectionString);
        var second = await RunAsync("db", "migrate", "--connection", ConnectionString);

        Assert.Equal(0, first.Code);
        Assert.Contains("applied 0001 registry_and_bans", first.Out, StringComparison.Ordinal);
        Assert.Equal(0, second.Code);
        Assert.Contains("schema is up to date", second.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_verify_exits_non_zero_when_the_chain_is_broken()
    {
        await RunAsync("db", "migrate", "--connection", ConnectionString);
        var log = new AuditLog(Database);
        for (int i = 0; i < 3; i++) await log.AppendAsync(new AuditEntry("officer", "read", "off-1"), Ct);

        var intact = await RunAsync("audit", "verify", "--connection", ConnectionString);
        await TamperAsync("audit_log", "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2");
        var broken = await RunAsync("audit", "verify", "--connection", ConnectionString);

        Assert.Equal(0, intact.Code);
        Assert.StartsWith("audit log intact: 3 records", intact.Out, StringComparison.Ordinal);
        Assert.Contains($"head {Convert.ToHexStringLower((await log.ReadSubjectAsync("off-1", Ct))[^1].Hash)}", intact.Out, StringComparison.Ordinal);
        Assert.Equal(1, broken.Code);
        Assert.Contains("BROKEN at record 2", broken.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_unreachable_connection_is_a_clear_error()
    {
        var missing = await RunAsync("db", "migrate");
        var unreachable = await RunAsync("db", "migrate", "--connection", "Host=127.0.0.1;Port=1;Username=x;Timeout=2");

        Assert.Equal(2, missing.Code);
        Assert.Contains("missing --connection", missing.Err, StringComparison.Ordinal);
        Assert.Equal(2, unreachable.Code);
        Assert.Contains("migration failed, nothing changed", unreachable.Err, StringComparison.Ordinal);
    }
}

/// <summary>Tests that redirect the process-wide console run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
