using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Proximity.Grains.Outputs;
using Proximity.Ingest;
using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Storage.Positions;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// What the fault tests share: the live service in production storage mode (silo + MQTT ingest + outputs on
/// PostgreSQL, as <c>proximity run --storage postgres</c> wires it), device fixes in the protocol's JSON, and
/// questions to the database.
/// </summary>
public static class LiveService
{
    public const double Lat = 52.37310, Lon = 4.89260;
    private static readonly double MetersPerDegreeLon = 111_320 * Math.Cos(Lat * Math.PI / 180);

    /// <summary>Durable mode on <paramref name="connectionString"/>; critical alerts are not escalated (an
    /// escalation republishes the alert, which the tests would count as a second publish).</summary>
    public static Dictionary<string, string?> Settings(string connectionString) => new()
    {
        ["Proximity:Storage"] = "postgres",
        ["Proximity:ConnectionString"] = connectionString,
        ["Proximity:Storage:MigrateOnStart"] = "true",
        ["Proximity:EscalateCriticalAfter"] = "00:00:00",
    };

    public static Task<ServiceHost> StartAsync(CaseFile caseFile, string connectionString, Action<IngestOptions>? ingest = null,
        IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = Settings(connectionString);
        foreach (var (key, value) in more ?? new Dictionary<string, string?>()) settings[key] = value;
        return ServiceHost.StartAsync(caseFile, ingest, settings);
    }

    /// <summary>One fix of the device protocol, <paramref name="eastMeters"/> east of the victims' home point.</summary>
    public static string Fix(long seq, DateTimeOffset ts, double eastMeters, int battery = 80, double northMeters = 0) => string.Format(CultureInfo.InvariantCulture,
        "{{\"seq\":{0},\"ts\":\"{1:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{2:F6},\"lon\":{3:F6},\"acc\":5,\"bat\":{4},\"src\":\"gps\"}}",
        seq, ts.UtcDateTime, Lat + northMeters / 111_320, Lon + eastMeters / MetersPerDegreeLon, battery);

    public static string PositionTopic(string device) => $"proximity/v1/devices/{device}/position";

    /// <summary>Waits until the service judged every device's messages up to the given sequence number (grain
    /// state has no change signal: polled, bounded).</summary>
    public static async Task WaitUntilHandledAsync(ServiceHost service, IReadOnlyDictionary<string, long> lastSeq, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        foreach (var (device, seq) in lastSeq)
        {
            while ((await service.Grains.DeviceGrain(device).GetStatus()).LastSeq < seq)
            {
                try { await Task.Delay(100, cts.Token); }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"{device}: seq {seq} not handled within {timeout} (last {(await service.Grains.DeviceGrain(device).GetStatus()).LastSeq})");
                }
            }
        }
    }

    /// <summary>Everything the service accepted so far is written to position_fix.</summary>
    public static Task FlushHistoryAsync(ServiceHost service, CancellationToken ct) =>
        service.Services.GetRequiredService<PositionWriteBuffer>().FlushAsync(ct).WaitAsync(TimeSpan.FromSeconds(120), ct);

    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public static async Task<List<object[]>> RowsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await r.ReadAsync())
        {
            var row = new object[r.FieldCount];
            r.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The distinct sequence numbers of a device in the position history.</summary>
    public static async Task<HashSet<long>> StoredSeqsAsync(string connectionString, string device) =>
        (await RowsAsync(connectionString, $"SELECT DISTINCT seq FROM position_fix WHERE device_id = '{device}'")).Select(r => (long)r[0]).ToHashSet();

    /// <summary>Waits until every recorded alert left the outbox (published_at set; polled).</summary>
    public static async Task WaitUntilAllPublishedAsync(string connectionString, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await ScalarAsync(connectionString, "SELECT count(*) FROM alert WHERE published_at IS NULL") > 0)
        {
            try { await Task.Delay(200, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"alerts still unpublished after {timeout}"); }
        }
    }

    /// <summary>Alert raises (not clears or updates) a control room received, by alert id.</summary>
    public static Dictionary<string, int> RaisesReceived(IEnumerable<Received> messages) =>
        messages.Where(m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal))
            .Select(m => AlertJson.Deserialize(m.Payload)!)
            .Where(a => a.ClearedAt is null)
            .GroupBy(a => a.Id)
            .ToDictionary(g => g.Key, g => g.Count());
}
