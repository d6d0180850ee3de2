namespace Proximity.Api.Tests;

/// <summary>One API host with the seeded case, shared by the tests of a class.</summary>
public sealed class CaseFixture : IAsyncLifetime
{
    private ApiHost? _host;

    public ApiHost Host => _host ?? throw new InvalidOperationException("not started");

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await Seed.CaseAsync(_host);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
    }
}
