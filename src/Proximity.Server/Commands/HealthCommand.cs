namespace Proximity.Server.Commands;

/// <summary>
/// <c>proximity health [--ready] [--url URL]</c>: asks a running node for its health, for container
/// health checks in images without a shell or curl. Exit 0 when healthy, 1 when not.
/// </summary>
public static class HealthCommand
{
    public const string Help = """
        proximity health [--ready] [--http-port 5080] [--url http://127.0.0.1:5080/health/live]

          --ready      ask /health/ready instead of /health/live
          --http-port  the node's HTTP port (default: Proximity__Http__Port, else 5080)
          --url        the full address to ask (overrides the two above)
          --timeout    seconds to wait for the answer (default 5)

        Exit code 0 when the node answers 2xx, 1 otherwise.
        """;

    public const int DefaultHttpPort = 5080;

    public static async Task<int> RunAsync(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(Help); return 0; }
        var url = HealthUrl(options, Environment.GetEnvironmentVariable("Proximity__Http__Port"));
        int timeout = options.Int("timeout", 5);
        if (timeout <= 0) throw new UsageException("--timeout must be positive");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(timeout) };
        try
        {
            using var response = await http.GetAsync(url);
            Console.Out.WriteLine($"{url}: {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.Error.WriteLine($"{url}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The address to ask: --url, or loopback on the configured HTTP port.</summary>
    public static Uri HealthUrl(Options options, string? portFromEnvironment)
    {
        if (options.Get("url") is { Length: > 0 } url)
            return Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
                ? u : throw new UsageException($"--url '{url}' is not an http(s) address");
        int port = options.Has("http-port") ? options.Int("http-port", DefaultHttpPort)
            : portFromEnvironment is { Length: > 0 } p ? (int.TryParse(p, out int e) ? e : throw new UsageException($"Proximity__Http__Port '{p}' is not a port number"))
            : DefaultHttpPort;
        if (port is < 1 or > 65535) throw new UsageException($"HTTP port {port} is out of range");
        return new Uri($"http://127.0.0.1:{port}/health/{(options.Has("ready") ? "ready" : "live")}");
    }
}
