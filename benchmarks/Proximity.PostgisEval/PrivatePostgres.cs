using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Proximity.PostgisEval;

/// <summary>
/// A private PostgreSQL 15 + PostGIS cluster: initdb in a directory of its own (as the <c>postgres</c> OS user
/// when running as root), started on a free loopback port, stopped on dispose. The directory is left for the
/// caller (a script's trap can stop a cluster left behind with <c>pg_ctl -D DIR/data stop</c>).
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string BinDir = "/usr/lib/postgresql/15/bin";
    private readonly string _dir;
    private bool _running;

    private PrivatePostgres(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    private string DataDir => Path.Combine(_dir, "data");

    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=16;Timeout=30;Command Timeout=120";

    public static async Task<PrivatePostgres> StartAsync(string dir)
    {
        if (!File.Exists(Path.Combine(BinDir, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDir}); run: bash tests/install-services.sh");
        Directory.CreateDirectory(dir);
        var server = new PrivatePostgres(Path.GetFullPath(dir), FreePort());
        try
        {
            if (IsRoot) await RunAsync("chown", ["-R", "postgres:postgres", server._dir]);
            await server.AsPostgresAsync("initdb", ["-D", server.DataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
            // fsync off: the check reads only; nothing here needs to survive a crash.
            await server.AsPostgresAsync("pg_ctl", [
                "-D", server.DataDir, "-l", Path.Combine(server._dir, "server.log"), "-w", "-t", "120",
                "-o", $"-p {server.Port} -k {server._dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", "start"]);
            server._running = true;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_running) return;
        _running = false;
        await AsPostgresAsync("pg_ctl", ["-D", DataDir, "-m", "fast", "-w", "stop"]);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsPostgresAsync(string tool, string[] args)
    {
        string exe = Path.Combine(BinDir, tool);
        return IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", exe, .. args]) : RunAsync(exe, args);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(timeout.Token);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
