using System.Diagnostics;

namespace Proximity.Ingest.Tests;

/// <summary>
/// A private Mosquitto on a free loopback port, configured from the project's own templates
/// (deploy/mosquitto), with a password file made by mosquitto_passwd. Killed (by its own process) on dispose.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    public const string ServiceUser = "proximity-service", ServicePassword = "service-secret";
    private static readonly string[] Locations = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"];
    private readonly Process _process;
    private readonly string _dir;

    private MosquittoBroker(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public static async Task<MosquittoBroker> StartAsync(IEnumerable<(string User, string Password)> users)
    {
        string mosquitto = Locations.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed: run tests/install-services.sh");
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
                "persistence" => "persistence false",
                "persistence_location" or "autosave_interval" => "",
                _ => l,
            })
            .Append("log_dest stderr")
            .Append("log_type error\nlog_type warning\nlog_type notice\nlog_type information")
            .Append($"user {Environment.UserName}");
        File.WriteAllLines(conf, lines);

        var process = new Process
        {
            StartInfo = new ProcessStartInfo(mosquitto, ["-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false },
        };
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.Add(e.Data);
            if (e.Data.Contains("running", StringComparison.Ordinal)) running.TrySetResult();
        };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(running.Task, exited, Task.Delay(TimeSpan.FromSeconds(30))) != running.Task)
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"mosquitto did not start: {string.Join("\n", log)}");
        }
        return new MosquittoBroker(process, dir, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
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
