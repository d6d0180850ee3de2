using Proximity.Grains;

namespace Proximity.Ingest.Tests;

/// <summary>One live service with the embedded broker for the embedded-broker tests; each test uses its own people.</summary>
public sealed class EmbeddedFixture : IAsyncLifetime
{
    public ServiceHost Host { get; private set; } = null!;
    public CounterReader Rejects { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        // Traces are carried through the grains only where they are exported (nothing listens on this endpoint).
        Host = await ServiceHost.StartAsync(ServiceHost.Case("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"),
            settings: new Dictionary<string, string?> { [Grains.ProximityTracing.OtlpEndpointVariable] = "http://127.0.0.1:9" });
        Rejects = CounterReader.Rejects(Host.Meters);
    }

    /// <summary>Waits until the device's grain has counted <paramref name="expected"/> messages (it hears of each one
    /// way, after the PUBACK may have left), at most 30 s, and asserts the count.</summary>
    public async Task DeviceMessagesReachAsync(string deviceId, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int seen;
        while ((seen = (await Host.Grains.DeviceGrain(deviceId).GetStatus()).Messages) < expected && DateTime.UtcNow < deadline)
            await Task.Delay(20, TestContext.Current.CancellationToken);
        Assert.Equal(expected, seen);
    }

    public async ValueTask DisposeAsync()
    {
        Rejects.Dispose();
        await Host.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class EmbeddedCollection : ICollectionFixture<EmbeddedFixture>
{
    public const string Name = "embedded broker";
}
