using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Proximity.Deploy.Tests;

/// <summary>
/// One <c>proximity run</c> process with the production settings (environment as in the Compose file): PostgreSQL
/// storage, the external broker's internal listener as the service user, its own MQTT client id. It can be killed
/// (SIGKILL) and started again under the same client id, as a supervisor restarts a crashed node. Each start takes
/// fresh ports: while the node was down another process may have taken its old ones.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(150);

    private readonly StringBuilder _log = new();
    private readonly string[] _arguments;
    private int _httpPort;
    private int _startedAt, _portRestarts; // where the current start's log begins; restarts for a lost port
    private readonly Dictionary<string, string> _environment;
    private Process? _process;

    public ClusterNode(string name, string casePath, string connection, int mqttPort, string clusterId, string signingKey)
    {
        Name = name;
        ClientId = "proximity-" + name;
        _arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "proximity.dll"), "run", "--case", casePath,
            "--storage", "postgres", "--connection", connection, "--migrate",
            "--mqtt", "external", "--mqtt-host", "127.0.0.1", "--mqtt-port", mqttPort.ToString(CultureInfo.InvariantCulture),
        ];
        _environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Proximity__Mqtt__Username"] = ProductionBroker.ServiceUser,
            ["Proximity__Mqtt__Password"] = ProductionBroker.Passwords[ProductionBroker.ServiceUser],
            // One persistent session per node (the default derives it from the machine name, the same here).
            ["Proximity__Ingest__ClientId"] = ClientId,
            ["Proximity__Cluster__ClusterId"] = clusterId,
            ["Proximity__Auth__SigningKey"] = signingKey,
        };
        Start();
    }

    public string Name { get; }
    public string ClientId { get; }
    /// <summary>The silo port of the current (or last) start.</summary>
    public int SiloPort { get; private set; }
    private HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public bool Running => _process is { HasExited: false };

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Starts the process (again, after <see cref="KillAsync"/>: fresh ports, same client id).</summary>
    public void Start()
    {
        if (Running) throw new InvalidOperationException($"{Name} is running");
        _process?.Dispose();
        _httpPort = FreePort();
        SiloPort = FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in _arguments) psi.ArgumentList.Add(a);
        foreach (var (option, port) in new[] { ("--http-port", _httpPort), ("--silo-port", SiloPort), ("--gateway-port", FreePort()) })
        {
            psi.ArgumentList.Add(option);
            psi.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        }
        psi.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (key, value) in _environment) psi.Environment[key] = value;
        lock (_log)
        {
            _startedAt = _log.Length;
            _log.AppendLine($"==== {Name} started {DateTime.UtcNow:HH:mm:ss.fff}");
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("proximity did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    // The console logger writes no time; the time a line arrives is close enough to read a failover from the log.
    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff ", CultureInfo.InvariantCulture)).AppendLine(line);
    }

    /// <summary>SIGKILL: no shutdown, no flush, no goodbye to the cluster or the broker.</summary>
    public async Task KillAsync()
    {
        if (!Running) return;
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        lock (_log) _log.AppendLine($"==== {Name} killed {DateTime.UtcNow:HH:mm:ss.fff}");
    }

    /// <summary>Polls an endpoint (HTTP has no readiness signal to wait on) until <paramref name="probe"/> holds.</summary>
    public async Task PollAsync(string path, Func<HttpResponseMessage, string, bool> probe, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Wait;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            if (!Running && LostItsPort()) Start(); // fresh ports
            Assert.True(Running, $"{Name} exited:\n{Log}");
            try
            {
                using var response = await Http.GetAsync(Url(path), ct);
                last = await response.Content.ReadAsStringAsync(ct);
                if (probe(response, last)) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.Delay(500, ct);
        }
        throw new Xunit.Sdk.XunitException($"{Name} {path} did not get there in {Wait.TotalSeconds} s; last answer:\n{last}\nlog:\n{Log}");
    }

    // A free port picked by the system is one an outgoing connection may take before the node binds it: the start
    // is tried again with fresh ports, a few times at most.
    private bool LostItsPort()
    {
        lock (_log)
            if (_portRestarts >= 3 || _log.ToString(_startedAt, _log.Length - _startedAt).IndexOf("address already in use", StringComparison.Ordinal) < 0)
                return false;
        _portRestarts++;
        return true;
    }

    /// <summary>The node's Prometheus text.</summary>
    public async Task<string> MetricsAsync(CancellationToken ct)
    {
        using var response = await Http.GetAsync(Url("/metrics"), ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (Running)
        {
            _process!.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
    }

    private Uri Url(string path) => new($"http://127.0.0.1:{_httpPort}{path}");

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
