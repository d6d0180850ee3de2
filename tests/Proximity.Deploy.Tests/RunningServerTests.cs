using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Proximity.Deploy.Tests;

/// <summary>
/// <c>proximity run --demo</c> as a real process (embedded broker, simulated devices): what the
/// probes, the image's health check and the Grafana dashboard rely on is actually served.
/// </summary>
public sealed partial class RunningServerTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private sealed class ServerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();

        public ServerProcess(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "proximity.dll"));
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
            psi.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
            _process = Process.Start(psi) ?? throw new InvalidOperationException("proximity did not start");
            _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Log { get { lock (_log) return _log.ToString(); } }

        public bool HasExited => _process.HasExited;

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Polls <paramref name="probe"/> (an HTTP endpoint has no readiness signal to wait on) until it holds.</summary>
    private static async Task<string> PollAsync(HttpClient http, string path, Func<HttpResponseMessage, string, bool> probe, ServerProcess server, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(server.HasExited, "proximity exited:\n" + server.Log);
            try
            {
                using var response = await http.GetAsync(path, ct);
                last = await response.Content.ReadAsStringAsync(ct);
                if (probe(response, last)) return last;
            }
            catch (HttpRequestException) { }
            await Task.Delay(500, ct);
        }
        throw new Xunit.Sdk.XunitException($"{path} did not get there in {StartTimeout.TotalSeconds} s; last answer:\n{last}\nlog:\n{server.Log}");
    }

    [Fact]
    public async Task The_running_server_answers_the_probes_and_exports_the_series_the_dashboard_queries()
    {
        var ct = TestContext.Current.CancellationToken;
        int http = FreePort();
        await using var server = new ServerProcess("run", "--demo",
            "--http-port", http.ToString(), "--mqtt-port", FreePort().ToString(),
            "--silo-port", FreePort().ToString(), "--gateway-port", FreePort().ToString());
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(30) };

        await PollAsync(client, "/health/ready", (r, _) => r.IsSuccessStatusCode, server, ct);
        using (var live = await client.GetAsync("/health/live", ct)) Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        // The demo devices publish fixes through the embedded broker into the grains.
        string metrics = await PollAsync(client, "/metrics",
            (r, body) => r.IsSuccessStatusCode && FixesCounter().Match(body) is { Success: true } m && double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0,
            server, ct);
        foreach (var series in new[] { "proximity_ingest_fixes_total", "proximity_ingest_duration_seconds_bucket", "proximity_decision_duration_seconds_bucket", "orleans_consistent_ring_size", "orleans_catalog_activations", "dotnet_gc_collections_total" })
            Assert.Contains("\n" + series, metrics);
        Assert.Matches(@"\norleans_consistent_ring_size\{[^}]*\} 1\n", metrics);

        // The Orleans dashboard is there for administrators only.
        using (var anonymous = await client.GetAsync("/dashboard", ct)) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, await DashboardAs(client, Proximity.Api.Auth.Roles.MonitoringCentre, ct));
        Assert.Equal(HttpStatusCode.OK, await DashboardAs(client, Proximity.Api.Auth.Roles.Admin, ct));
    }

    private static async Task<HttpStatusCode> DashboardAs(HttpClient client, string role, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Authorization = new("Bearer", Proximity.Api.Auth.DevTokens.Mint(role, "ops-1",
            Proximity.Api.Auth.ProximityAuthOptions.DevelopmentSigningKey, TimeSpan.FromMinutes(10)));
        using var response = await client.SendAsync(request, ct);
        return response.StatusCode;
    }

    [GeneratedRegex(@"\nproximity_ingest_fixes_total\{[^}]*\} ([0-9.e+]+)")]
    private static partial Regex FixesCounter();
}
