using Proximity.Storage.Audit;

namespace Proximity.Storage.Tests;

public sealed class AuditLogTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private async Task<AuditLog> FillAsync(int count)
    {
        var log = new AuditLog(Database);
        for (int i = 1; i <= count; i++)
            await log.AppendAsync(new AuditEntry($"officer-{i % 3}", "read-positions", $"off-{i % 4}", "case review", $$"""{"n": {{i}}, "b": "x"}"""), Ct);
        return log;
    }

    [Fact]
    public async Task An_untouched_chain_verifies()
    {
        var log = await FillAsync(25);

        var result = await log.VerifyAsync(Ct);

        Assert.True(result.Intact, result.Problem);
        Assert.Equal(25, result.RecordsChecked);
    }

    [Fact]
    public async Task Concurrent_appends_from_several_nodes_still_form_one_chain()
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async node =>
        {
            await using var db = ProximityDatabase.Open(ConnectionString);
            var log = new AuditLog(db);
            for (int i = 0; i < 10; i++) await log.AppendAsync(new AuditEntry($"node-{node}", "write", "x"), Ct);
        }));

        var result = await new AuditLog(Database).VerifyAsync(Ct);
        Assert.True(result.Intact, result.Problem);
        Assert.Equal(40, result.RecordsChecked);
    }

    [Fact]
    public async Task The_table_refuses_updates_and_deletes()
    {
        await FillAsync(2);

        await Assert.ThrowsAsync<Npgsql.PostgresException>(async () =>
        {
            await using var cmd = Database.DataSource.CreateCommand("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1");
            await cmd.ExecuteNonQueryAsync(Ct);
        });
        await Assert.ThrowsAsync<Npgsql.PostgresException>(async () =>
        {
            await using var cmd = Database.DataSource.CreateCommand("DELETE FROM audit_log");
            await cmd.ExecuteNonQueryAsync(Ct);
        });
        Assert.True((await new AuditLog(Database).VerifyAsync(Ct)).Intact);
    }

    [Theory]
    [InlineData("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 7", 7L, "altered")]
    [InlineData("UPDATE audit_log SET detail = '{\"n\": 70, \"b\": \"x\"}' WHERE seq = 7", 7L, "altered")]
    [InlineData("UPDATE audit_log SET at = at + interval '1 second' WHERE seq = 7", 7L, "altered")]
    [InlineData("DELETE FROM audit_log WHERE seq = 7", 7L, "missing")]
    public async Task Tampering_is_found_at_the_record_it_touched(string tamper, long brokenSeq, string problem)
    {
        var log = await FillAsync(12);

        await TamperAsync("audit_log", tamper);
        var result = await log.VerifyAsync(Ct);

        Assert.False(result.Intact);
        Assert.Equal(brokenSeq, result.FirstBrokenSeq);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rewriting_a_record_with_a_fresh_hash_breaks_the_next_link()
    {
        var log = await FillAsync(5);
        // A forger who recomputes record 3's own hash still cannot fix record 4's prev_hash without redoing the rest.
        var records = await log.ReadSubjectAsync("off-3", Ct);
        var third = records.Single(r => r.Seq == 3);
        var forged = third.Entry with { Actor = "forger" };
        byte[] hash = AuditLog.ComputeHash(third.PrevHash, 3, third.At, forged);
        await TamperAsync("audit_log", $"UPDATE audit_log SET actor = 'forger', hash = '\\x{Convert.ToHexString(hash)}' WHERE seq = 3");

        var result = await log.VerifyAsync(Ct);

        Assert.Equal(4L, result.FirstBrokenSeq);
    }

    [Fact]
    public async Task Bad_input_is_refused_and_nothing_is_written()
    {
        var log = new AuditLog(Database);

        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditEntry("a", "b", "c", DetailJson: "{not json"), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => log.AppendAsync(new AuditEntry("", "b", "c"), Ct));

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM audit_log"));
    }
}
