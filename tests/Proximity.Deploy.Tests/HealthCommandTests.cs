using System.Net;
using System.Net.Sockets;
using System.Text;
using Proximity.Server.Commands;

namespace Proximity.Deploy.Tests;

/// <summary><c>proximity health</c>, the container health check, against a minimal HTTP server.</summary>
public sealed class HealthCommandTests
{
    /// <summary>Answers one request per connection with the status given for its path; records the paths.</summary>
    private sealed class TinyHttpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Dictionary<string, int> _status;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public List<string> Paths { get; } = [];

        public TinyHttpServer(Dictionary<string, int> status)
        {
            _status = status;
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (OperationCanceledException) { return; }
                using (client)
                {
                    var stream = client.GetStream();
                    using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                    string requestLine = await reader.ReadLineAsync() ?? "";
                    while (!string.IsNullOrEmpty(await reader.ReadLineAsync())) { }
                    string path = requestLine.Split(' ') is [_, var p, ..] ? p : "";
                    lock (Paths) Paths.Add(path);
                    int code = _status.GetValueOrDefault(path, 404);
                    byte[] response = Encoding.ASCII.GetBytes($"HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    await stream.WriteAsync(response);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try { await _loop; } catch (ObjectDisposedException) { } catch (SocketException) { }
            _stop.Dispose();
        }
    }

    [Fact]
    public async Task Healthy_when_the_node_answers_live_and_unhealthy_when_not_ready()
    {
        await using var server = new TinyHttpServer(new() { ["/health/live"] = 200, ["/health/ready"] = 503 });
        Assert.Equal(0, await HealthCommand.RunAsync(Options.Parse(["--http-port", server.Port.ToString()])));
        Assert.Equal(1, await HealthCommand.RunAsync(Options.Parse(["--http-port", server.Port.ToString(), "--ready"])));
        Assert.Equal(["/health/live", "/health/ready"], server.Paths);
    }

    [Fact]
    public async Task Unhealthy_when_nothing_listens()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0)) { probe.Start(); port = ((IPEndPoint)probe.LocalEndpoint).Port; }
        Assert.Equal(1, await HealthCommand.RunAsync(Options.Parse(["--url", $"http://127.0.0.1:{port}/health/live", "--timeout", "10"])));
    }

    [Fact]
    public void The_address_comes_from_the_flag_else_the_configuration_variable_else_the_default_port()
    {
        Assert.Equal("http://127.0.0.1:6000/health/live", HealthCommand.HealthUrl(Options.Parse(["--http-port", "6000"]), "7000").ToString());
        Assert.Equal("http://127.0.0.1:7000/health/ready", HealthCommand.HealthUrl(Options.Parse(["--ready"]), "7000").ToString());
        Assert.Equal("http://127.0.0.1:5080/health/live", HealthCommand.HealthUrl(Options.Parse([]), null).ToString());
        Assert.Equal("http://node:1/x", HealthCommand.HealthUrl(Options.Parse(["--url", "http://node:1/x"]), "7000").ToString());
    }

    [Theory]
    [InlineData("--url", "ftp://x/health")]
    [InlineData("--url", "not a url")]
    [InlineData("--http-port", "0")]
    [InlineData("--http-port", "70000")]
    [InlineData("--http-port", "abc")]
    public void Bad_options_are_a_usage_error(string flag, string value) =>
        Assert.Throws<UsageException>(() => HealthCommand.HealthUrl(Options.Parse([flag, value]), null));

    [Fact]
    public async Task The_command_line_knows_the_health_command()
    {
        Assert.Equal(0, await CommandLine.RunAsync(["health", "--help"]));
    }
}
