using System.Diagnostics;

namespace Proximity.Deploy.Tests;

/// <summary>deploy/k8s: the kustomization and every manifest it lists.</summary>
public sealed class KubernetesTests
{
    private const string Dir = "deploy/k8s";
    private static readonly Map Kustomization = Yaml.LoadFile($"{Dir}/kustomization.yaml");
    private static readonly IReadOnlyList<Map> Objects =
        [.. Kustomization.L("resources").Cast<string>().SelectMany(f => Yaml.LoadAll(Repo.Read($"{Dir}/{f}")))];

    private static Map One(string kind, string name) =>
        Objects.SingleOrDefault(o => o.S("kind") == kind && o.M("metadata").S("name") == name)
        ?? throw new Xunit.Sdk.XunitException($"no {kind} '{name}' in {Dir}");

    private static IEnumerable<Map> All(string kind) => Objects.Where(o => o.S("kind") == kind);

    private static Map Silos => One("StatefulSet", "proximity");
    private static Map PodSpec(Map workload) => workload.M("spec").M("template").M("spec");
    private static Map Container(Map workload, string name) => PodSpec(workload).Maps("containers").Single(c => c.S("name") == name);
    private static Map PodLabels(Map workload) => workload.M("spec").M("template").M("metadata").M("labels");

    private static bool Selects(Map selector, Map labels) =>
        selector.Values.All(kv => labels.OptS(kv.Key) == (string?)kv.Value);

    [Fact]
    public void Every_object_has_a_kind_a_name_and_an_api_version_and_the_namespace_is_set_once()
    {
        Assert.All(Objects, o =>
        {
            Assert.False(string.IsNullOrEmpty(o.S("apiVersion")));
            Assert.False(string.IsNullOrEmpty(o.M("metadata").S("name")));
            Assert.False(o.M("metadata").Has("namespace"), "the kustomization sets the namespace");
        });
        Assert.Equal("proximity", Kustomization.S("namespace"));
        Assert.Equal("proximity", One("Namespace", "proximity").M("metadata").S("name"));
    }

    [Fact]
    public void Three_silos_keep_their_names_roll_one_at_a_time_and_shut_down_gracefully()
    {
        var spec = Silos.M("spec");
        Assert.True(int.Parse(spec.S("replicas")) >= 3);
        // Stable pod names = stable MQTT client ids (ProductionBrokerTests shows why that matters).
        var headless = One("Service", spec.S("serviceName"));
        Assert.Equal("None", headless.M("spec").S("clusterIP"));
        Assert.True(Selects(headless.M("spec").M("selector"), PodLabels(Silos)));
        var update = spec.M("updateStrategy");
        Assert.Equal("RollingUpdate", update.S("type"));
        Assert.Equal("0", update.M("rollingUpdate").S("partition"));
        Assert.Null(update.M("rollingUpdate").OptS("maxUnavailable")); // the default, one pod at a time
        Assert.True(int.Parse(spec.S("minReadySeconds")) > 0);
        Assert.True(int.Parse(PodSpec(Silos).S("terminationGracePeriodSeconds")) >= 60, "Orleans graceful shutdown needs time");
        var preStop = Container(Silos, "proximity").M("lifecycle").M("preStop");
        int preStopSeconds = int.Parse(preStop.M("sleep").S("seconds"));
        Assert.InRange(preStopSeconds, 5, int.Parse(PodSpec(Silos).S("terminationGracePeriodSeconds")) - 30);
    }

    [Fact]
    public void The_silos_are_probed_on_the_health_endpoints_of_their_HTTP_port()
    {
        var container = Container(Silos, "proximity");
        var http = container.Maps("ports").Single(p => p.S("name") == "http");
        Assert.Equal(ConfigValue("Proximity__Http__Port"), http.S("containerPort"));
        Assert.Equal("/health/ready", container.M("readinessProbe").M("httpGet").S("path"));
        Assert.Equal("/health/live", container.M("livenessProbe").M("httpGet").S("path"));
        Assert.Equal("/health/live", container.M("startupProbe").M("httpGet").S("path"));
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
            Assert.Equal("http", container.M(probe).M("httpGet").S("port"));
        var ports = container.Maps("ports").ToDictionary(p => p.S("name"), p => p.S("containerPort"));
        Assert.Equal(ConfigValue("Proximity__Cluster__SiloPort"), ports["silo"]);
        Assert.Equal(ConfigValue("Proximity__Cluster__GatewayPort"), ports["gateway"]);
    }

    [Fact]
    public void The_silos_run_the_production_configuration_on_PostgreSQL_and_the_external_broker()
    {
        var args = Container(Silos, "proximity").L("args").Cast<string>().ToList();
        Assert.Equal("run", args[0]);
        Assert.Equal("postgres", args[args.IndexOf("--storage") + 1]);
        Assert.Contains("--migrate", args); // under a lock: silos starting at once on a new database is safe
        Assert.Equal("external", args[args.IndexOf("--mqtt") + 1]);
        Assert.Equal("mosquitto", ConfigValue("Proximity__Mqtt__Host"));
        Assert.Equal(ConfigValue("Proximity__Mqtt__Port"),
            One("Service", "mosquitto").M("spec").Maps("ports").Single(p => p.S("name") == "mqtt").S("port"));
    }

    [Fact]
    public void Signing_key_database_connection_and_device_credentials_are_Secrets_and_every_reference_resolves()
    {
        var secrets = All("Secret").ToDictionary(s => s.M("metadata").S("name"), s => s.M("stringData"));
        Assert.Contains("Proximity__Auth__SigningKey", secrets["proximity-auth"].Keys);
        Assert.Contains("Proximity__ConnectionString", secrets["proximity-database"].Keys);
        Assert.Contains("passwd", secrets["mosquitto-passwd"].Keys);
        Assert.Equal("kubernetes.io/tls", One("Secret", "mosquitto-tls").S("type"));

        var references = Objects.Where(o => o.OptM("spec")?.Has("template") == true)
            .SelectMany(w => PodSpec(w).Maps("containers"))
            .SelectMany(c => c.Maps("env"))
            .Select(e => e.OptM("valueFrom")?.OptM("secretKeyRef")).OfType<Map>().ToList();
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.Contains(r.S("key"), secrets[r.S("name")].Keys));
        // None of the secret values is in the ConfigMap or written into a workload.
        var config = One("ConfigMap", "proximity-config").M("data");
        Assert.DoesNotContain(config.Keys, k => k is "Proximity__ConnectionString" or "Proximity__Auth__SigningKey" or "Proximity__Mqtt__Password");
        Assert.All(Container(Silos, "proximity").Maps("env"), e => Assert.False(e.Has("value") && e.S("name").StartsWith("Proximity__", StringComparison.Ordinal),
            $"{e.S("name")} is set in plain text in the Deployment"));
    }

    [Fact]
    public void Every_variable_given_to_a_silo_is_a_key_of_the_configuration_contract()
    {
        var names = One("ConfigMap", "proximity-config").M("data").Keys
            .Concat(Container(Silos, "proximity").Maps("env").Select(e => e.S("name")))
            .Concat(Objects.Where(o => o.S("kind") == "Secret" && o.M("metadata").S("name").StartsWith("proximity-", StringComparison.Ordinal))
                .SelectMany(s => s.M("stringData").Keys).Where(k => k != "POSTGRES_PASSWORD"));
        Assert.Empty(names.Distinct().Select(ConfigurationContract.Problem).OfType<string>());
    }

    [Fact]
    public void A_disruption_budget_keeps_a_majority_of_silos_running()
    {
        var budget = All("PodDisruptionBudget").Single();
        Assert.Equal("policy/v1", budget.S("apiVersion"));
        Assert.True(Selects(budget.M("spec").M("selector").M("matchLabels"), PodLabels(Silos)));
        int min = int.Parse(budget.M("spec").S("minAvailable"));
        int replicas = int.Parse(Silos.M("spec").S("replicas"));
        Assert.InRange(min, replicas / 2 + 1, replicas - 1);
    }

    [Fact]
    public void Every_Service_selects_pods_that_exist_and_targets_ports_they_declare()
    {
        var workloads = Objects.Where(o => o.S("kind") is "Deployment" or "StatefulSet").ToList();
        foreach (var service in All("Service"))
        {
            var selector = service.M("spec").M("selector");
            var targets = workloads.Where(w => Selects(selector, PodLabels(w))).ToList();
            Assert.True(targets.Count > 0, $"Service {service.M("metadata").S("name")} selects no pods");
            var declared = targets.SelectMany(w => PodSpec(w).Maps("containers")).SelectMany(c => c.Maps("ports")).Select(p => p.S("name")).ToHashSet();
            Assert.All(service.M("spec").Maps("ports"), p => Assert.Contains(p.S("targetPort"), declared));
        }
        Assert.Equal("LoadBalancer", One("Service", "mosquitto-tls").M("spec").S("type"));
        Assert.Equal(["8883"], One("Service", "mosquitto-tls").M("spec").Maps("ports").Select(p => p.S("port")));
        Assert.Equal("ClusterIP", One("Service", "mosquitto").M("spec").S("type"));
    }

    [Fact]
    public void Pods_run_as_non_root_without_privilege_escalation()
    {
        foreach (var workload in Objects.Where(o => o.S("kind") is "Deployment" or "StatefulSet"))
        {
            var pod = PodSpec(workload).M("securityContext");
            Assert.Equal("true", pod.S("runAsNonRoot"));
            Assert.NotEqual("0", pod.S("runAsUser"));
            Assert.All(PodSpec(workload).Maps("containers"), c =>
            {
                Assert.Equal("false", c.M("securityContext").S("allowPrivilegeEscalation"));
                Assert.Equal(["ALL"], c.M("securityContext").M("capabilities").L("drop").Cast<string>());
            });
        }
        Assert.Equal("1654", PodSpec(Silos).M("securityContext").S("runAsUser")); // the image's "app" user
    }

    [Fact]
    public void The_broker_mounts_the_production_config_the_password_secret_and_the_certificates_where_the_config_expects_them()
    {
        var broker = One("StatefulSet", "mosquitto");
        var generator = Kustomization.Maps("configMapGenerator").Single(g => g.S("name") == "mosquitto-config");
        Assert.Equal(["mosquitto.conf=mosquitto/mosquitto.conf", "acl=mosquitto/acl"], generator.L("files").Cast<string>());
        var volumes = PodSpec(broker).Maps("volumes").ToDictionary(v => v.S("name"));
        var projected = volumes["config"].M("projected").Maps("sources").ToList();
        Assert.Contains(projected, s => s.OptM("configMap")?.S("name") == "mosquitto-config");
        Assert.Contains(projected, s => s.OptM("secret")?.S("name") == "mosquitto-passwd");
        var certPaths = volumes["certs"].M("secret").Maps("items").Select(i => i.S("path")).ToHashSet();
        Assert.Equal(new HashSet<string> { "ca.crt", "server.crt", "server.key" }, certPaths);
        var mounts = Container(broker, "mosquitto").Maps("volumeMounts").ToDictionary(m => m.S("name"), m => m.S("mountPath"));
        Assert.Equal("/mosquitto/config", mounts["config"]);
        Assert.Equal("/mosquitto/certs", mounts["certs"]);
        Assert.Equal("/mosquitto/data", mounts["data"]);
    }

    [Fact]
    public void Only_the_silos_reach_the_database_and_the_plain_broker_listener()
    {
        var policies = All("NetworkPolicy").ToDictionary(p => p.M("metadata").S("name"), p => p.M("spec"));
        var database = policies["postgres-from-proximity"].Maps("ingress").Single();
        Assert.True(Selects(database.Maps("from").Single().M("podSelector").M("matchLabels"), PodLabels(Silos)));
        var broker = policies["mosquitto-listeners"].Maps("ingress").ToList();
        var plain = broker.Single(r => r.Maps("ports").Any(p => p.S("port") == "1883"));
        Assert.True(Selects(plain.Maps("from").Single().M("podSelector").M("matchLabels"), PodLabels(Silos)));
        var tls = broker.Single(r => r.Maps("ports").Any(p => p.S("port") == "8883"));
        Assert.False(tls.Has("from"), "devices connect from anywhere, over TLS");
    }

    [Fact]
    public async Task Kustomize_builds_the_manifests_when_kubectl_is_installed()
    {
        string? kubectl = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is null) Assert.Skip("kubectl is not installed");
        using var p = Process.Start(new ProcessStartInfo(kubectl, ["kustomize", Repo.PathOf(Dir)])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var ct = TestContext.Current.CancellationToken;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        string stderr = await p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        Assert.True(p.ExitCode == 0, stderr);
        var built = Yaml.LoadAll(await stdout);
        Assert.Equal(Objects.Count + 1, built.Count); // + the generated mosquitto ConfigMap
        Assert.All(built.Where(o => o.S("kind") != "Namespace"), o => Assert.Equal("proximity", o.M("metadata").S("namespace")));
        var generated = built.Single(o => o.S("kind") == "ConfigMap" && o.M("metadata").S("name").StartsWith("mosquitto-config", StringComparison.Ordinal));
        Assert.Equal(Repo.Read("deploy/mosquitto/production/acl"), generated.M("data").S("acl"));
    }

    private static string ConfigValue(string key) => One("ConfigMap", "proximity-config").M("data").S(key);
}
