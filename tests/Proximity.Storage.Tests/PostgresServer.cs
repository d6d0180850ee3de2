using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Proximity.Storage.Migrations;

namespace Proximity.Storage.Tests;

/// <summary>
/// A private PostgreSQL 15 cluster for tests: initdb in a temporary directory (as the
/// <c>postgres</c> OS user when running as root), started on a free loopback port, stopped and
/// deleted on dispose. Each test class takes its own database from it.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string BinDir = "/usr/lib/postgresql/15/bin";
    private readonly string _dir;
    private readonly string _dataDir;
    private int _databases;

    private PostgresServer(string dir, int port)
    {
        _dir = dir;
        _dataDir = Path.Combine(dir, "data");
        Port = port;
    }

    public int Port { get; }

    public bool Running { get; private set; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Timeout=15;Command Timeout=60;Include Error Detail=true";

    public static async Task<PostgresServer> StartAsync()
    {
        if (!File.Exists(Path.Combine(BinDir, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 is not installed ({BinDir}); run: bash tests/install-services.sh");
        string dir = Path.Combine(Path.GetTempPath(), "proximity-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var server = new PostgresServer(dir, FreePort());
        try
        {
            if (IsRoot) await RunAsync("chown", ["-R", "postgres:postgres", dir]);
            await server.AsPostgresAsync("initdb", ["-D", server._dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
            await server.StartAgainAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh database with PostGIS, migrated unless told otherwise (copied from a template: fast).</summary>
    public async Task<string> CreateDatabaseAsync(bool migrate = true)
    {
        string name = "t" + Interlocked.Increment(ref _databases) + "_" + Guid.NewGuid().ToString("N")[..8];
        await _create.WaitAsync();
        try
        {
            if (!_templatesReady)
            {
                await AdminAsync("CREATE DATABASE postgis_template");
                await ExecAsync(NoPool("postgis_template"), "CREATE EXTENSION postgis");
                await AdminAsync("CREATE DATABASE migrated_template TEMPLATE postgis_template");
                await using (var database = ProximityDatabase.Open(NoPool("migrated_template")))
                    await Migrator.MigrateAsync(database.DataSource);
                _templatesReady = true;
            }
            // Copying a template is refused while another copy of it is being made: one at a time.
            await AdminAsync($"CREATE DATABASE {name} TEMPLATE {(migrate ? "migrated_template" : "postgis_template")}");
        }
        finally
        {
            _create.Release();
        }
        return ConnectionString(name);
    }

    private readonly SemaphoreSlim _create = new(1, 1);
    private bool _templatesReady;

    private string NoPool(string database) => ConnectionString(database).Replace("Pooling=true", "Pooling=false", StringComparison.Ordinal);

    private Task AdminAsync(string sql) => ExecAsync(NoPool("postgres"), sql);

    private static async Task ExecAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the server at once, as a crash or network loss would look to clients.</summary>
    public async Task StopAsync()
    {
        if (!Running) return;
        await AsPostgresAsync("pg_ctl", ["-D", _dataDir, "-m", "immediate", "-w", "stop"]);
        Running = false;
    }

    public async Task StartAgainAsync()
    {
        // fsync off is safe here (the OS does not crash); synchronous_commit stays on, or an
        // immediate stop would lose acknowledged commits and the outage tests would see it.
        await AsPostgresAsync("pg_ctl", [
            "-D", _dataDir, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "120",
            "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200",
            "start"]);
        Running = true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Running) await StopAsync();
        }
        finally
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
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

/// <summary>One PostgreSQL server for the whole test assembly.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL fixture not started");

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
