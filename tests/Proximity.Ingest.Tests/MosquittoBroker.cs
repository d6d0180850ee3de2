using System.Diagnostics;

namespace Proximity.Ingest.Tests;

/// <summary>
/// A private Mosquitto on a free loopback port, configured from the project's own templates
/// (deploy/mosquitto), with a password file made by mosquitto_passwd. Killed (by its own process) on dispose.
/// With <c>persistent</c> it keeps sessions and queued messages in its temporary directory, and can be stopped and
/// started again on the same port (a broker restart).
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string ServiceUser = "proximity-service", ServicePassword = "service-secret";
    private static readonly string[] Locations = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"];
    private readonly string _dir;
    private readonly string _conf;
    private readonly List<string> _log = [];
    private Process? _process;

    private MosquittoBroker(string dir, string conf, int port)
    {
        _dir = dir;
        _conf = conf;
        Port = port;
    }

    public int Port { get; }

    public bool Running => _process is { HasExited: false };

    /// <summary>The service as a client of this broker (external-broker mode: persistent session, shared subscription).</summary>
    public Action<IngestOptions> ServiceIngest(string clientId) => o =>
    {
        o.Mode = IngestMode.External;
        o.BrokerHost = "127.0.0.1";
        o.BrokerPort = Port;
        o.Username = ServiceUser;
        o.Password = ServicePassword;
        o.ClientId = clientId;
    };

    public static async Task<MosquittoBroker> StartAsync(IEnumerable<(string User, string Password)> users, bool persistent = false)
    {
        string dir = Directory.CreateTempSubdirectory("proximity-mosquitto-").FullName;
        int port = ServiceHost.FreePort();
        string passwd = Path.Combine(dir, "passwd"), acl = Path.Combine(dir, "acl"), conf = Path.Combine(dir, "mosquitto.conf");
        File.WriteAllText(passwd, "");
        foreach (var (user, password) in users.Prepend((ServiceUser, ServicePassword)))
            await RunAsync("mosquitto_passwd", "-b", passwd, user, password);
        File.Copy(Path.Combine(RepoRoot(), "deploy", "mosquitto", "proximity.acl"), acl);
        var lines = File.ReadAllLines(Path.Combine(RepoRoot(), "deploy", "mosquitto", "mosquitto.conf"))
            .Select(l => l.Split(' ')[0] switch
            {
                "listener" => $"listener {port} 127.0.0.1",
                "password_file" => $"password_file {passwd}",
                "acl_file" => $"acl_file {acl}",
                "persistence" => $"persistence {(persistent ? "true" : "false")}",
                "persistence_location" => persistent ? $"persistence_location {dir}/" : "",
                "autosave_interval" => persistent ? l : "",
                _ => l,
            })
            .Append("log_dest stderr")
            .Append("log_type error\nlog_type warning\nlog_type notice\nlog_type information")
            .Append($"user {Environment.UserName}");
        File.WriteAllLines(conf, lines);
        var broker = new MosquittoBroker(dir, conf, port);
        try
        {
            await broker.StartAgainAsync();
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
        return broker;
    }

    /// <summary>Starts the broker (again) on its port with its configuration and, if persistent, its saved state.</summary>
    public async Task StartAgainAsync()
    {
        if (Running) throw new InvalidOperationException("mosquitto is running already");
        string mosquitto = Locations.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed: run tests/install-services.sh");
        _process?.Dispose();
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(mosquitto, ["-c", _conf]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false },
        };
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_log) _log.Add(e.Data);
            if (e.Data.Contains("running", StringComparison.Ordinal)) running.TrySetResult();
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _process = process;
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(running.Task, exited, Task.Delay(TimeSpan.FromSeconds(30))) != running.Task)
        {
            if (!process.HasExited) process.Kill();
            throw new InvalidOperationException($"mosquitto did not start: {Log}");
        }
    }

    /// <summary>Stops the broker with SIGTERM: it saves its persistent state and closes every connection, as a service
    /// manager's restart does.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process) return;
        await RunAsync("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
    }

    public string Log { get { lock (_log) return string.Join("\n", _log); } }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, UseShellExecute = false })!;
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {err}");
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Proximity.sln"))) return d.FullName;
        throw new InvalidOperationException("cannot find the repository root (Proximity.sln)");
    }
}
