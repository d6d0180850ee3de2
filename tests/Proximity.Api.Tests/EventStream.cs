using System.Text.Json;

namespace Proximity.Api.Tests;

/// <summary>The server-sent events of <c>/api/alerts/stream</c>, one at a time.</summary>
public sealed class EventStream : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly CancellationToken _ct;

    private EventStream(HttpResponseMessage response, StreamReader reader, CancellationToken ct) =>
        (_response, _reader, _ct) = (response, reader, ct);

    public static async Task<EventStream> OpenAsync(HttpClient client, CancellationToken ct)
    {
        var response = await client.GetAsync("/api/alerts/stream", HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(ct)), ct);
    }

    public async Task<(string Event, JsonElement Data)> NextAsync()
    {
        string? ev = null;
        while (await _reader.ReadLineAsync(_ct) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) ev = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) return (ev!, JsonDocument.Parse(line[6..]).RootElement.Clone());
        }
        throw new EndOfStreamException();
    }

    /// <summary>The next event of <paramref name="kind"/>, skipping others.</summary>
    public async Task<JsonElement> NextAsync(string kind)
    {
        while (true)
            if (await NextAsync() is var (ev, data) && ev == kind) return data;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
