using MQTTnet.Protocol;
using System.Collections.Concurrent;
using System.Text.Json;
using Proximity.Protocol;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Load;
using Proximity.Simulator.Mqtt;
using Proximity.Simulator.Scenarios;

namespace Proximity.Simulator.Tests;

/// <summary>The simulator against a real (embedded MQTTnet 5) broker that plays the service's part.</summary>
public class EndToEndTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    private const string ScenarioJson = """
        {
          "offenders": [ { "id": "off-1", "devices": [ { "id": "dev-o", "secret": "so" } ] } ],
          "victims": [ { "id": "vic-1", "devices": [ { "id": "dev-v", "secret": "sv" } ] } ],
          "bans": [ { "id": "b1", "type": "contact", "offenderId": "off-1", "victimId": "vic-1", "minDistanceMeters": 500 } ],
          "integrations": [ { "id": "ctrl", "secret": "sc" } ],
          "simulation": {
            "durationSeconds": 240,
            "seed": 3,
            "devices": {
              "dev-o": {
                "intervalSeconds": 10, "mode": "cycle",
                "route": [ [52.3700, 4.8900], { "lat": 52.3720, "lon": 4.9000, "env": "urban_canyon" }, [52.3750, 4.9050] ],
                "uplink": { "batchSize": 3 },
                "events": [
                  { "at": 120, "type": "coverage_gap", "duration": 30 },
                  { "at": 200, "type": "strap_tamper", "duration": 20 }
                ]
              },
              "dev-v": {
                "intervalSeconds": 30, "mode": "stationary", "env": "indoor",
                "route": [ [52.3800, 4.9100] ],
                "events": [ { "at": 60, "type": "sos" } ]
              }
            }
          }
        }
        """;

    private static readonly Dictionary<string, string> Secrets = new() { ["dev-o"] = "so", ["dev-v"] = "sv", ["ctrl"] = "sc" };

    [Fact]
    public async Task A_scenario_publishes_valid_protocol_messages_and_obeys_set_interval()
    {
        await using var broker = await EmbeddedBroker.StartAsync(Secrets);
        int offenderPositions = 0;
        broker.OnPublish = p =>
        {
            // Like the service: after the offender's third fix, ask it to report every 2 s, tell the victim, raise an alert.
            if (p.ClientId == "dev-o" && p.Topic.EndsWith("/position", StringComparison.Ordinal) && Interlocked.Increment(ref offenderPositions) == 3)
                _ = Task.Run(async () =>
                {
                    await broker.InjectAsync(Topics.Command("dev-o"), """{"type":"set_interval","seconds":2}""");
                    await broker.InjectAsync(Topics.Notify("dev-v"), """{"level":"danger","message":"Go to a safe place","alertId":"a-1"}""");
                    await broker.InjectAsync("proximity/v1/alerts/critical", """{"id":"a-1","type":"ContactBanBreach","severity":"Critical","offenderId":"off-1","deviceId":"dev-o"}""");
                });
        };

        var log = new StringWriter();
        var scenario = Scenario.Parse(ScenarioJson, ".");
        var runner = new ScenarioRunner(scenario, new ScenarioRunOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
            Speed = 40,
            Progress = false,
            Log = TextWriter.Synchronized(log),
            Linger = TimeSpan.FromSeconds(1),
        });
        using var cts = new CancellationTokenSource(Generous);
        var summary = await runner.RunAsync(cts.Token);

        Assert.Empty(broker.RefusedConnections);
        Assert.Equal(0, summary.Errors);
        var messages = broker.Messages.Where(m => m.ClientId != "test-service").ToList();
        Assert.Equal(summary.Messages, messages.Count);

        var fixes = new Dictionary<string, List<Proximity.Spatial.Decisions.PositionFix>> { ["dev-o"] = [], ["dev-v"] = [] };
        var events = new List<(string Device, string Type)>();
        int arrays = 0;
        foreach (var m in messages)
        {
            var parts = m.Topic.Split('/');
            Assert.Equal(5, parts.Length);
            Assert.Equal("proximity/v1/devices", string.Join('/', parts[..3]));
            Assert.Equal(m.ClientId, parts[3]);
            if (parts[4] == "position")
            {
                fixes[m.ClientId].AddRange(FixJson.ParsePayload(m.Payload, m.ClientId));
                if (JsonDocument.Parse(m.Payload).RootElement.ValueKind == JsonValueKind.Array) arrays++;
            }
            else
            {
                Assert.Equal("event", parts[4]);
                var e = JsonDocument.Parse(m.Payload).RootElement;
                Assert.True(e.GetProperty("seq").GetInt64() > 0);
                FixJson.Timestamp(e.GetProperty("ts"), "ts");
                string type = e.GetProperty("type").GetString()!;
                Assert.Contains(type, ScriptedEvent.ProtocolTypes);
                events.Add((m.ClientId, type));
            }
        }

        Assert.True(arrays >= 2, $"{arrays} store-and-forward arrays after the coverage gap");
        Assert.Contains(("dev-v", "sos"), events);
        Assert.Contains(("dev-o", "strap_open"), events);
        Assert.Contains(("dev-o", "strap_closed"), events);
        Assert.All(fixes["dev-v"], f => Assert.Equal(Proximity.Spatial.Decisions.FixSource.Wifi, f.Source));

        // The offender reported every 10 s until the command, every 2 s after it.
        var offender = fixes["dev-o"].OrderBy(f => f.Seq).ToList();
        var gaps = offender.Zip(offender.Skip(1), (a, b) => (b.Timestamp - a.Timestamp).TotalSeconds).ToList();
        Assert.Equal(10, gaps[0]);
        Assert.Equal(10, gaps[1]);
        Assert.All(gaps.TakeLast(10), g => Assert.Equal(2, g));
        Assert.True(offender.Count > 40, $"{offender.Count} offender fixes");

        Assert.Equal(1, summary.Commands);
        Assert.Equal(1, summary.Notifies);
        Assert.Equal(1, summary.Alerts);
        Assert.Equal(1, summary.AlertsByType["ContactBanBreach"]);
        string text = log.ToString();
        Assert.Contains("dev-o command: set_interval 2 s", text);
        Assert.Contains("dev-v notify: danger: Go to a safe place (alert a-1)", text);
    }

    [Fact]
    public async Task A_device_sends_again_what_the_broker_refused_for_now_and_loses_nothing()
    {
        await using var broker = await EmbeddedBroker.StartAsync(Secrets);
        var refusedOnce = new ConcurrentDictionary<string, byte>();
        int seen = 0;
        // Every third message is refused on its first attempt: "quota exceeded" (the service's history full while
        // its database is away) or "implementation specific error" (a failure in the service).
        broker.RefuseWith = p =>
        {
            string key = p.ClientId + p.Topic + Convert.ToHexString(p.Payload);
            if (Interlocked.Increment(ref seen) % 3 != 0 || !refusedOnce.TryAdd(key, 0)) return null;
            return refusedOnce.Count % 2 == 0 ? MqttPubAckReasonCode.QuotaExceeded : MqttPubAckReasonCode.ImplementationSpecificError;
        };
        var summary = await new ScenarioRunner(Scenario.Parse(ScenarioJson, "."), new ScenarioRunOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
            Speed = 40,
            Progress = false,
            Log = TextWriter.Null,
            Linger = TimeSpan.FromSeconds(1),
        }).RunAsync(new CancellationTokenSource(Generous).Token);

        Assert.True(refusedOnce.Count >= 5, $"only {refusedOnce.Count} messages were refused once");
        Assert.Equal(0, summary.Errors);
        var delivered = broker.Messages.Where(m => m.ClientId != "test-service").ToList();
        Assert.Equal(summary.Messages, delivered.Count);
        // Every refused message came again and got through.
        var deliveredKeys = delivered.Select(m => m.ClientId + m.Topic + Convert.ToHexString(m.Payload)).ToHashSet();
        Assert.All(refusedOnce.Keys, k => Assert.Contains(k, deliveredKeys));
    }

    [Fact]
    public async Task The_same_seed_and_start_give_the_same_messages()
    {
        async Task<Dictionary<string, string[]>> RunOnce()
        {
            await using var broker = await EmbeddedBroker.StartAsync(Secrets);
            string json = ScenarioJson.Replace("\"durationSeconds\": 240", "\"start\": \"2026-11-23T10:00:00Z\", \"durationSeconds\": 240", StringComparison.Ordinal);
            var runner = new ScenarioRunner(Scenario.Parse(json, "."), new ScenarioRunOptions
            {
                Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
                Speed = 1000, Progress = false, Log = TextWriter.Null, Linger = TimeSpan.Zero,
            });
            await runner.RunAsync(new CancellationTokenSource(Generous).Token);
            return broker.Messages.GroupBy(m => m.ClientId)
                .ToDictionary(g => g.Key, g => g.Select(m => System.Text.Encoding.UTF8.GetString(m.Payload)).ToArray());
        }

        var first = await RunOnce();
        var second = await RunOnce();
        Assert.Equal(["dev-o", "dev-v"], first.Keys.Order());
        foreach (var id in new[] { "dev-o", "dev-v" })
        {
            Assert.True(first[id].Length > 5);
            Assert.Equal(first[id], second[id]);
        }
    }

    [Fact]
    public async Task A_device_with_a_wrong_secret_is_refused_with_a_clear_error()
    {
        await using var broker = await EmbeddedBroker.StartAsync(new Dictionary<string, string>(Secrets) { ["dev-v"] = "other" });
        var runner = new ScenarioRunner(Scenario.Parse(ScenarioJson, "."), new ScenarioRunOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
            Progress = false,
            Log = TextWriter.Null,
        });
        using var cts = new CancellationTokenSource(Generous);
        var e = await Assert.ThrowsAsync<ScenarioException>(() => runner.RunAsync(cts.Token));
        Assert.Contains("dev-v", e.Message);
        Assert.Contains("cannot connect", e.Message);
        Assert.DoesNotContain(broker.Messages, m => m.Topic.Contains("/devices/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Load_mode_publishes_valid_fixes_from_every_device_and_measures_publish_to_alert_latency()
    {
        var layout = new LoadLayout { Seed = 5 };
        const int devices = 20;
        var secrets = Enumerable.Range(0, devices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret);
        secrets[layout.IntegrationId] = layout.Secret(layout.IntegrationId);
        await using var broker = await EmbeddedBroker.StartAsync(secrets);
        long offenderFixes = 0, alertSeq = 0;
        broker.OnPublish = p =>
        {
            if (p.ClientId != "sim-o-000000" || !p.Topic.EndsWith("/position", StringComparison.Ordinal)) return;
            var fix = FixJson.ParsePayload(p.Payload, p.ClientId)[0];
            long n = Interlocked.Increment(ref offenderFixes);
            if (n is < 5 or > 8) return;
            if (n == 5) Interlocked.Exchange(ref alertSeq, fix.Seq);
            // The service's alert for fix 5; for fix 6 the same alert cleared; for fix 7 it again (an escalation);
            // for fix 8 an alert decided long before the run.
            string ts = n == 8 ? "2020-01-01T00:00:00.000Z" : DevicePayload.Time(fix.Timestamp);
            string cleared = n == 6 ? $",\"clearedAt\":\"{ts}\"" : "";
            string alert = $$$"""{"id":"{{{(n == 8 ? "a-old" : "a-9")}}}","type":"ExclusionZoneBreach","severity":"Critical","offenderId":"off-000000","deviceId":"sim-o-000000","decidedAt":"{{{ts}}}"{{{cleared}}},"evidence":{"fixes":[{"role":"offender","deviceId":"sim-o-000000","seq":{{{Interlocked.Read(ref alertSeq)}}},"timestamp":"{{{ts}}}"}]}}""";
            _ = Task.Run(() => broker.InjectAsync("proximity/v1/alerts/critical", alert));
        };

        var report = await new LoadRunner(new LoadOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
            Devices = devices,
            Rate = 200,
            DurationSeconds = 1.5,
            Layout = layout,
            Progress = false,
            LingerSeconds = 1,
        }).RunAsync(new CancellationTokenSource(Generous).Token);

        Assert.Equal(0, report.Errors);
        Assert.Equal(devices, report.Connected);
        var positions = broker.Messages.Where(m => m.Topic.EndsWith("/position", StringComparison.Ordinal)).ToList();
        Assert.Equal(report.FixesSent, positions.Count);
        Assert.Equal(report.FixesSent, report.FixesAcked);
        Assert.True(report.FixesSent >= 6 * devices, $"{report.FixesSent} fixes");
        foreach (var group in positions.GroupBy(m => m.ClientId))
        {
            Assert.All(group, m => Assert.Equal(Topics.Position(group.Key), m.Topic));
            var seqs = group.SelectMany(m => FixJson.ParsePayload(m.Payload, group.Key)).Select(f => f.Seq).Order().ToList();
            Assert.Equal(Enumerable.Range(0, seqs.Count).Select(i => seqs[0] + i), seqs);
            Assert.True(seqs[0] > 1_700_000_000_000, "sequence numbers start at the run's Unix milliseconds");
        }
        Assert.Equal(devices, positions.Select(m => m.ClientId).Distinct().Count());

        Assert.Equal(1, report.Alerts);
        Assert.Equal(1, report.AlertsCleared);
        Assert.Equal(1, report.AlertsMatched);
        Assert.Equal(2, report.AlertsOther);
        Assert.NotNull(report.P50Ms);
        Assert.True(report.P50Ms > 0);
    }

    [Fact]
    public async Task Raw_subscribe_mode_times_every_fix_from_publish_to_a_plain_subscriber()
    {
        var layout = new LoadLayout { Seed = 7 };
        const int devices = 10;
        var secrets = Enumerable.Range(0, devices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret);
        await using var broker = await EmbeddedBroker.StartAsync(secrets, allowAnonymous: true);
        string dir = Directory.CreateTempSubdirectory("sim-raw-").FullName;
        try
        {
            var report = await new LoadRunner(new LoadOptions
            {
                Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
                Devices = devices, Rate = 100, DurationSeconds = 1.5, Layout = layout, Progress = false, LingerSeconds = 60,
                RawSubscribe = true,
                HistogramPath = Path.Combine(dir, "raw.hgrm"),
                FixHistogramPath = Path.Combine(dir, "fix.hgrm"),
            }).RunAsync(new CancellationTokenSource(Generous).Token);

            Assert.Equal(0, report.Errors);
            Assert.True(report.FixesAcked >= 50, $"{report.FixesAcked} fixes acked");
            // Every acknowledged fix reached the subscriber (the run waits for them), each timed by its seq.
            Assert.Equal(report.FixesAcked, report.RawReceived);
            Assert.True(report.RawPerSecond > 0);
            Assert.NotNull(report.RawP50Ms);
            Assert.True(report.RawP99Ms >= report.RawP50Ms);
            Assert.Equal(0, report.Alerts);
            Assert.Null(report.P50Ms);
            foreach (var name in new[] { "raw.hgrm", "fix.hgrm" })
            {
                var text = File.ReadAllText(Path.Combine(dir, name));
                Assert.Contains("Percentile", text, StringComparison.Ordinal);
                Assert.Matches($@"Total count\s*=\s*{report.FixesAcked}\b", text);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_interrupted_load_run_drains_its_in_flight_fixes_and_reports_without_errors()
    {
        var layout = new LoadLayout { Seed = 8 };
        const int devices = 6;
        var secrets = Enumerable.Range(0, devices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret);
        await using var broker = await EmbeddedBroker.StartAsync(secrets);
        using var interrupt = new CancellationTokenSource();
        int seen = 0;
        broker.OnPublish = p =>
        {
            if (!p.Topic.EndsWith("/position", StringComparison.Ordinal) || Interlocked.Increment(ref seen) != 20) return;
            // Ctrl+C while this fix waits for its PUBACK (held back here a moment).
            interrupt.Cancel();
            Thread.Sleep(300);
        };

        var report = await new LoadRunner(new LoadOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port },
            Devices = devices, Rate = 100, DurationSeconds = 600, Layout = layout, Progress = false, LingerSeconds = 0,
            AlertsUser = "nobody",
        }).RunAsync(interrupt.Token).WaitAsync(Generous, TestContext.Current.CancellationToken);

        Assert.True(report.FixesSent >= 20, $"{report.FixesSent} fixes sent");
        Assert.Equal(0, report.PublishErrors);
        Assert.Equal(report.FixesSent, report.FixesAcked);
        Assert.Equal(report.FixesSent, broker.Messages.Count(m => m.Topic.EndsWith("/position", StringComparison.Ordinal)));
    }

    [Fact]
    public void Raw_subscribe_reads_the_seq_of_a_position_payload()
    {
        var fix = new FixRecord(1_763_900_000_123, DateTimeOffset.UtcNow, 52.37, 4.9, 5, 1.2, 90, 80, "gps");
        Assert.Equal(1_763_900_000_123, LoadRunner.SeqOf(DevicePayload.Position("sim-o-000001", fix).Payload));
        Assert.Null(LoadRunner.SeqOf("not json"u8.ToArray()));
        Assert.Null(LoadRunner.SeqOf("""{"ts":"2026-01-01T00:00:00.000Z","nested":{"seq":5}}"""u8.ToArray()));
    }

    [Fact]
    public async Task Load_mode_spreads_connections_over_the_given_source_addresses()
    {
        var layout = new LoadLayout { Seed = 6 };
        var secrets = Enumerable.Range(0, 4).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret);
        await using var broker = await EmbeddedBroker.StartAsync(secrets);
        var sources = new[] { System.Net.IPAddress.Parse("127.0.0.2"), System.Net.IPAddress.Parse("127.0.0.3") };
        var report = await new LoadRunner(new LoadOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = broker.Port, SourceAddresses = sources },
            Devices = 4, Rate = 40, DurationSeconds = 0.5, Layout = layout, Progress = false, LingerSeconds = 0,
            AlertsUser = "nobody",
        }).RunAsync(new CancellationTokenSource(Generous).Token);

        Assert.Equal(4, report.Connected);
        Assert.Equal(0, report.Errors);
        var from = broker.ConnectedFrom.Where(kv => kv.Key.StartsWith("sim-", StringComparison.Ordinal))
            .Select(kv => ((System.Net.IPEndPoint)kv.Value).Address).ToList();
        Assert.Equal(4, from.Count);
        Assert.Equal(sources.ToHashSet(), from.ToHashSet());
    }

    [Fact]
    public void Gen_case_writes_a_case_file_whose_zones_the_load_tracks_cross()
    {
        var layout = new LoadLayout { Seed = 9, BreachFraction = 0.5 };
        const int devices = 41;
        using var stream = new MemoryStream();
        CaseGenerator.Write(stream, layout, devices);
        var file = CaseFile.Parse(System.Text.Encoding.UTF8.GetString(stream.ToArray()));

        Assert.Equal(21, file.Offenders.Count);
        Assert.Equal(20, file.Victims.Count);
        Assert.Equal(21 + 20, file.Bans.Count);
        Assert.All(file.Devices(), d => Assert.Equal(layout.Secret(d.DeviceId), d.Secret));
        Assert.Equal(layout.IntegrationId, file.Integrations.Single().Id);

        int pairs = 21, breachers = 0;
        for (int pair = 0; pair < pairs; pair++)
        {
            var centre = layout.ZoneCenter(pair, pairs);
            double nearest = double.MaxValue, nearestVictim = double.MaxValue;
            for (double t = 0; t < 400; t += 1)
            {
                var offender = layout.TruePosition(2 * pair, pairs, t).Position;
                nearest = Math.Min(nearest, offender.DistanceTo(centre));
                if (pair < 20) nearestVictim = Math.Min(nearestVictim, offender.DistanceTo(layout.TruePosition(2 * pair + 1, pairs, t).Position));
            }
            if (layout.IsBreacher(pair))
            {
                breachers++;
                Assert.True(nearest < layout.ZoneRadiusMeters / 2, $"breacher {pair} comes only {nearest:0} m near its zone centre");
            }
            else Assert.True(nearest > layout.ZoneRadiusMeters * 2, $"offender {pair} enters its zone ({nearest:0} m)");
            if (pair < 20) Assert.True(nearestVictim > layout.ContactMinDistanceMeters + 50, $"pair {pair} comes within {nearestVictim:0} m");
        }
        Assert.InRange(breachers, 4, 17);
    }
}
