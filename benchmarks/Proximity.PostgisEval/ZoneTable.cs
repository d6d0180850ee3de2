using System.Text.Json;
using Npgsql;

namespace Proximity.PostgisEval;

/// <summary>The exclusion zones of a case file as a PostGIS table: one geography polygon per zone ban, a
/// B-tree on the offender and a GiST index on the area (circles become 32-segment buffers).</summary>
public static class ZoneTable
{
    public static async Task<int> LoadAsync(NpgsqlDataSource db, JsonElement caseRoot, CancellationToken ct)
    {
        await ExecAsync(db, """
            CREATE EXTENSION IF NOT EXISTS postgis;
            DROP TABLE IF EXISTS eval_zones;
            CREATE TABLE eval_zones (ban_id text PRIMARY KEY, offender_id text NOT NULL, area geography NOT NULL);
            """, ct);
        int count = 0;
        await using (var writer = await db.OpenConnectionAsync(ct))
        await using (var batch = new NpgsqlBatch(writer))
        {
            foreach (var ban in caseRoot.GetProperty("bans").EnumerateArray())
            {
                if (ban.GetProperty("type").GetString() is not ("exclusion" or "zone")) continue;
                var area = ban.GetProperty("area");
                var cmd = new NpgsqlBatchCommand();
                cmd.Parameters.AddWithValue(ban.GetProperty("id").GetString()!);
                cmd.Parameters.AddWithValue(ban.GetProperty("offenderId").GetString()!);
                if (area.GetProperty("type").GetString() == "Circle")
                {
                    var centre = area.GetProperty("center");
                    cmd.CommandText = "INSERT INTO eval_zones VALUES ($1, $2, ST_Buffer(ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography, $5, 8))";
                    cmd.Parameters.AddWithValue(centre[0].GetDouble());
                    cmd.Parameters.AddWithValue(centre[1].GetDouble());
                    cmd.Parameters.AddWithValue(area.GetProperty("radiusMeters").GetDouble());
                }
                else
                {
                    cmd.CommandText = "INSERT INTO eval_zones VALUES ($1, $2, ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)::geography)";
                    cmd.Parameters.AddWithValue(area.GetRawText());
                }
                batch.BatchCommands.Add(cmd);
                count++;
                if (batch.BatchCommands.Count == 1000)
                {
                    await batch.ExecuteNonQueryAsync(ct);
                    batch.BatchCommands.Clear();
                }
            }
            if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
        }
        await ExecAsync(db, """
            CREATE INDEX eval_zones_offender ON eval_zones (offender_id);
            CREATE INDEX eval_zones_area ON eval_zones USING gist (area);
            ANALYZE eval_zones;
            """, ct);
        return count;
    }

    private static async Task ExecAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
