namespace Proximity.Deploy.Tests;

/// <summary>deploy/compose/compose.yaml and the files it mounts.</summary>
public sealed class ComposeTests
{
    private const string ComposeDir = "deploy/compose";
    private static readonly Map Compose = Yaml.LoadFile($"{ComposeDir}/compose.yaml");
    private static readonly Map Services = Compose.M("services");
    private static readonly string[] Nodes = ["proximity-1", "proximity-2", "proximity-3"];

    private static Map Service(string name) => Services.OptM(name) ?? throw new Xunit.Sdk.XunitException($"compose.yaml has no service '{name}'");

    private static IEnumerable<string> Ports(Map service) => service.OptL("ports").Select(p => Assert.IsType<string>(p));

    private static IReadOnlyDictionary<string, string?> Environment(Map service) =>
        service.OptM("environment")?.Values.ToDictionary(kv => kv.Key, kv => kv.Value as string) ?? new Dictionary<string, string?>();

    private static List<string> Command(Map service) => [.. service.L("command").Select(c => Assert.IsType<string>(c))];

    [Fact]
    public void The_stack_has_the_database_the_broker_three_nodes_and_the_observability_services()
    {
        Assert.Equal("postgis/postgis:15-3.4", Service("postgres").S("image"));
        Assert.StartsWith("eclipse-mosquitto:2", Service("mosquitto").S("image"), StringComparison.Ordinal);
        foreach (var node in Nodes)
        {
            Assert.Equal("proximity-server:local", Service(node).S("image"));
            Assert.Equal("build", Service(node).S("pull_policy")); // a local name: never pulled from a registry
            Assert.Equal("../..", Service(node).M("build").S("context"));
            Assert.Equal("Dockerfile", Service(node).M("build").S("dockerfile"));
        }
        Assert.Contains("opentelemetry-collector", Service("otel-collector").S("image"), StringComparison.Ordinal);
        Assert.StartsWith("prom/prometheus", Service("prometheus").S("image"), StringComparison.Ordinal);
        Assert.StartsWith("grafana/grafana", Service("grafana").S("image"), StringComparison.Ordinal);
        Assert.True(File.Exists(Repo.PathOf("Dockerfile")));
    }

    [Fact]
    public void The_broker_publishes_only_the_TLS_port_and_runs_the_production_config_and_acl()
    {
        var mosquitto = Service("mosquitto");
        Assert.Equal(["8883:8883"], Ports(mosquitto));
        var volumes = mosquitto.L("volumes").Cast<string>().ToList();
        Assert.Contains("../mosquitto/production/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro", volumes);
        Assert.Contains("../mosquitto/production/acl:/mosquitto/config/acl:ro", volumes);
        Assert.Contains(volumes, v => v.EndsWith(":/mosquitto/config/passwd:ro", StringComparison.Ordinal));
        Assert.Contains(volumes, v => v.EndsWith(":/mosquitto/certs:ro", StringComparison.Ordinal));
        // What the mounted config expects to find where the volumes put it.
        string conf = Repo.Read("deploy/mosquitto/production/mosquitto.conf");
        Assert.Contains("listener 8883", conf);
        Assert.Contains("listener 1883", conf);
        Assert.Contains("certfile /mosquitto/certs/server.crt", conf);
        Assert.Contains("acl_file /mosquitto/config/acl", conf);
        Assert.Contains("password_file /mosquitto/config/passwd", conf);
        Assert.Contains("allow_anonymous false", conf);
        Assert.DoesNotContain("allow_anonymous true", conf);
    }

    [Fact]
    public void Nothing_but_the_broker_TLS_port_the_node_HTTP_ports_and_the_dashboards_is_published()
    {
        Assert.Empty(Ports(Service("postgres")));
        Assert.Empty(Ports(Service("otel-collector")));
        Assert.All(Ports(Service("prometheus")), p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
        foreach (var node in Nodes)
            Assert.All(Ports(Service(node)), p => Assert.EndsWith(":5080", p, StringComparison.Ordinal));
        Assert.Equal(3, Nodes.SelectMany(n => Ports(Service(n))).Distinct().Count());
    }

    [Fact]
    public void The_three_nodes_run_the_production_configuration_against_the_same_database_and_cluster()
    {
        foreach (var node in Nodes)
        {
            var command = Command(Service(node));
            Assert.Equal("run", command[0]);
            Assert.Equal("postgres", command[command.IndexOf("--storage") + 1]);
            Assert.Contains("--migrate", command); // under a lock: three nodes starting at once on a new database is safe
            Assert.Equal("external", command[command.IndexOf("--mqtt") + 1]);
            Assert.Equal("mosquitto", command[command.IndexOf("--mqtt-host") + 1]);
            Assert.Equal("1883", command[command.IndexOf("--mqtt-port") + 1]);
            var env = Environment(Service(node));
            Assert.Contains("Host=postgres;", env["Proximity__ConnectionString"], StringComparison.Ordinal);
            Assert.Equal("proximity-service", env["Proximity__Mqtt__Username"]);
            Assert.Equal("proximity", env["Proximity__Cluster__ClusterId"]);
            Assert.NotNull(env["Proximity__Auth__SigningKey"]);
            var dependsOn = Service(node).M("depends_on");
            Assert.Equal("service_healthy", dependsOn.M("postgres").S("condition"));
            Assert.Equal("service_healthy", dependsOn.M("mosquitto").S("condition"));
            Assert.True(int.Parse(Service(node).S("stop_grace_period").TrimEnd('s')) >= 30, "Orleans needs time to hand over grains");
        }
        // One cluster: every node sees the same settings.
        Assert.Single(Nodes.Select(n => string.Join('\n', Environment(Service(n)).OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"))).Distinct());
    }

    [Fact]
    public void Secrets_come_from_the_environment_file_not_from_the_compose_file()
    {
        foreach (var node in Nodes)
        {
            var env = Environment(Service(node));
            Assert.Contains("${POSTGRES_PASSWORD:?", env["Proximity__ConnectionString"], StringComparison.Ordinal);
            Assert.StartsWith("${MQTT_SERVICE_PASSWORD:?", env["Proximity__Mqtt__Password"], StringComparison.Ordinal);
            Assert.StartsWith("${PROXIMITY_SIGNING_KEY:?", env["Proximity__Auth__SigningKey"], StringComparison.Ordinal);
        }
        Assert.StartsWith("${POSTGRES_PASSWORD:?", Environment(Service("postgres"))["POSTGRES_PASSWORD"], StringComparison.Ordinal);
        string ignore = Repo.Read($"{ComposeDir}/.gitignore");
        Assert.Contains(".env", ignore.Split('\n'));
        Assert.Contains("secrets/", ignore.Split('\n'));
        string script = Repo.Read($"{ComposeDir}/make-secrets.sh");
        foreach (var variable in new[] { "POSTGRES_PASSWORD", "MQTT_SERVICE_PASSWORD", "PROXIMITY_SIGNING_KEY", "GRAFANA_ADMIN_PASSWORD" })
            Assert.Contains($"echo \"{variable}=", script);
    }

    [Fact]
    public void Every_variable_given_to_a_node_is_a_key_of_the_configuration_contract()
    {
        var problems = Nodes.SelectMany(n => Environment(Service(n)).Keys).Distinct()
            .Select(ConfigurationContract.Problem).OfType<string>().ToList();
        Assert.Empty(problems);
    }

    [Fact]
    public void Every_file_the_stack_mounts_exists_in_the_repository()
    {
        var missing = new List<string>();
        foreach (var (name, value) in Services.Values)
        {
            foreach (var volume in ((Map)value!).OptL("volumes").OfType<string>())
            {
                string source = volume.Split(':')[0];
                if (!source.StartsWith('.') || source.StartsWith("./secrets", StringComparison.Ordinal)) continue; // named volumes; generated secrets
                string path = Path.GetFullPath(Path.Combine(Repo.PathOf(ComposeDir), source));
                if (!File.Exists(path) && !Directory.Exists(path)) missing.Add($"{name}: {source}");
            }
        }
        Assert.Empty(missing);
    }

    [Fact]
    public void Prometheus_scrapes_every_node_and_Grafana_has_the_dashboard_for_the_figures_that_matter()
    {
        var prometheus = Yaml.LoadFile("deploy/prometheus/prometheus.yml");
        var job = prometheus.Maps("scrape_configs").Single(j => j.S("job_name") == "proximity");
        Assert.Equal("/metrics", job.S("metrics_path"));
        var targets = job.Maps("static_configs").SelectMany(c => c.L("targets")).Cast<string>().ToList();
        Assert.Equal(Nodes.Select(n => $"{n}:5080"), targets);

        var datasource = Yaml.LoadFile("deploy/grafana/provisioning/datasources/prometheus.yaml").Maps("datasources").Single();
        Assert.Equal("http://prometheus:9090", datasource.S("url"));
        var provider = Yaml.LoadFile("deploy/grafana/provisioning/dashboards/proximity.yaml").Maps("providers").Single();
        Assert.Contains("../grafana/dashboards:" + provider.M("options").S("path") + ":ro", Service("grafana").L("volumes").Cast<string>());

        using var dashboard = System.Text.Json.JsonDocument.Parse(Repo.Read("deploy/grafana/dashboards/proximity.json"));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        var queries = panels.SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.All(panels, p => Assert.Equal(datasource.S("uid"), p.GetProperty("datasource").GetProperty("uid").GetString()));
        foreach (var (figure, metric) in new[]
        {
            ("fixes/s", "rate(proximity_ingest_fixes_total"),
            ("decision latency", "histogram_quantile(0.99, sum by (le) (rate(proximity_decision_duration_seconds_bucket"),
            ("received → acknowledged latency", "histogram_quantile(0.99, sum by (le) (rate(proximity_ingest_duration_seconds_bucket"),
            ("alerts by type", "sum by (type) (increase(proximity_alerts_raised_total"),
            ("devices offline", "proximity_devices_offline"),
            ("rejected messages by reason", "sum by (reason) (rate(proximity_ingest_rejected_total"),
            ("cluster health", "up{job=\"proximity\"}"),
            ("cluster size", "orleans_consistent_ring_size"),
        })
            Assert.True(queries.Any(q => q.Contains(metric, StringComparison.Ordinal)), $"no panel shows {figure} ({metric})");
    }

    [Fact]
    public void Prometheus_loads_operational_alert_rules_for_a_node_down_no_fixes_a_lost_device_feed_and_failing_alert_delivery()
    {
        var prometheus = Yaml.LoadFile("deploy/prometheus/prometheus.yml");
        Assert.Equal(["/etc/prometheus/alerts.yml"], prometheus.L("rule_files").Cast<string>());
        Assert.Contains("../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro", Service("prometheus").L("volumes").Cast<string>());
        var rules = Yaml.LoadFile("deploy/prometheus/alerts.yml").Maps("groups").SelectMany(g => g.Maps("rules")).ToList();
        Assert.All(rules, r =>
        {
            Assert.False(string.IsNullOrWhiteSpace(r.S("expr")));
            Assert.Matches("^[0-9]+[smh]$", r.S("for"));
            Assert.True(r.M("labels").S("severity") is "critical" or "warning");
            Assert.False(string.IsNullOrWhiteSpace(r.M("annotations").S("summary")));
        });
        var byName = rules.ToDictionary(r => r.S("alert"), r => r.S("expr"));
        Assert.Contains("up{job=\"proximity\"} == 0", byName["ProximityNodeDown"]);
        Assert.Contains("proximity_ingest_fixes_total", byName["ProximityNoFixes"]);
        Assert.Contains("proximity_output_failed_total", byName["ProximityAlertDeliveryFailing"]);
        Assert.Contains("proximity_devices_feed_lost", byName["ProximityDeviceFeedLost"]);
    }

    [Fact]
    public void The_dashboard_panels_have_unique_ids_and_do_not_overlap()
    {
        using var dashboard = System.Text.Json.JsonDocument.Parse(Repo.Read("deploy/grafana/dashboards/proximity.json"));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .Select(p => (Id: p.GetProperty("id").GetInt32(), Grid: p.GetProperty("gridPos")))
            .Select(p => (p.Id, X: p.Grid.GetProperty("x").GetInt32(), Y: p.Grid.GetProperty("y").GetInt32(),
                W: p.Grid.GetProperty("w").GetInt32(), H: p.Grid.GetProperty("h").GetInt32())).ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.Id).Distinct().Count());
        Assert.All(panels, p => Assert.InRange(p.X + p.W, 1, 24));
        foreach (var a in panels)
            foreach (var b in panels.Where(b => b.Id > a.Id))
                Assert.False(a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H, $"panels {a.Id} and {b.Id} overlap");
    }

    [Fact]
    public void The_collector_receives_OTLP_on_the_port_the_nodes_send_to()
    {
        var collector = Yaml.LoadFile("deploy/otel/collector.yaml");
        Assert.Equal("0.0.0.0:4317", collector.M("receivers").M("otlp").M("protocols").M("grpc").S("endpoint"));
        var pipelines = collector.M("service").M("pipelines");
        Assert.Contains("otlp", pipelines.M("traces").L("receivers").Cast<string>());
        foreach (var node in Nodes) Assert.Equal("http://otel-collector:4317", Environment(Service(node))["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    }
}
