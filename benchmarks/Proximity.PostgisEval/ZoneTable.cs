using System.Text.Json;
using Npgsql;

namespace Proximity.PostgisEval;

/// <summary>The exclusion zones of a case file as a PostGIS table: one geography polygon per zone ban, a
/// B-tree on the offender and a GiST index on the area (circles become 32-segment buffers). Also its contact bans
/// (<c>eval_contact</c>) and an empty table of each person's last position (<c>eval_last</c>, unlogged).</summary>
public static class ZoneTable
{
    public static async Task<int> LoadAsync(NpgsqlDataSource db, JsonElement caseRoot, CancellationToken ct)
    {
        await ExecAsync(db, """
            CREATE EXTENSION IF NOT EXISTS postgis;
            DROP TABLE IF EXISTS eval_zones, eval_contact, eval_last;
            CREATE TABLE eval_zones (ban_id text PRIMARY KEY, offender_id text NOT NULL, area geography NOT NULL);
            CREATE TABLE eval_contact (ban_id text PRIMARY KEY, offender_id text NOT NULL, victim_id text NOT NULL, min_distance float8 NOT NULL);
            CREATE UNLOGGED TABLE eval_last (person_id text PRIMARY KEY, g geography NOT NULL);
            """, ct);
        int count = 0;
        await using (var writer = await db.OpenConnectionAsync(ct))
        await using (var batch = new NpgsqlBatch(writer))
        {
            foreach (var ban in caseRoot.GetProperty("bans").EnumerateArray())
            {
                var type = ban.GetProperty("type").GetString();
                var cmd = new NpgsqlBatchCommand();
                if (type == "contact")
                {
                    cmd.CommandText = "INSERT INTO eval_contact VALUES ($1, $2, $3, $4)";
                    cmd.Parameters.AddWithValue(ban.GetProperty("id").GetString()!);
                    cmd.Parameters.AddWithValue(ban.GetProperty("offenderId").GetString()!);
                    cmd.Parameters.AddWithValue(ban.GetProperty("victimId").GetString()!);
                    cmd.Parameters.AddWithValue(ban.GetProperty("minDistanceMeters").GetDouble());
                    batch.BatchCommands.Add(cmd);
                    continue;
                }
                if (type is not ("exclusion" or "zone")) continue;
                var area = ban.GetProperty("area");
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
            CREATE INDEX eval_contact_offender ON eval_contact (offender_id);
            CREATE INDEX eval_contact_victim ON eval_contact (victim_id);
            ANALYZE eval_zones; ANALYZE eval_contact;
            """, ct);
        return count;
    }

    private static async Task ExecAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
