using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Grains.Durability;
using Proximity.Storage.Positions;

namespace Proximity.Grains.Durable.Tests;

/// <summary>The PostgreSQL stores read their settings from the documented keys (docs/operations.md).</summary>
public sealed class DurableHostingTests
{
    private static ServiceProvider Stores(Dictionary<string, string?> keys) => new ServiceCollection()
        .AddLogging()
        .AddProximityPostgresStores("Host=127.0.0.1;Database=unused", migrate: false, new ConfigurationBuilder().AddInMemoryCollection(keys).Build())
        .BuildServiceProvider();

    [Fact]
    public void Position_retention_comes_from_its_key()
    {
        using var services = Stores(new() { ["Proximity:Storage:Maintenance:RetentionDays"] = "30" });
        Assert.Equal(30, services.GetRequiredService<PositionMaintenanceOptions>().RetentionDays);
    }

    [Fact]
    public void Without_the_key_position_history_is_kept_180_days()
    {
        using var services = Stores([]);
        Assert.Equal(180, services.GetRequiredService<PositionMaintenanceOptions>().RetentionDays);
    }
}
