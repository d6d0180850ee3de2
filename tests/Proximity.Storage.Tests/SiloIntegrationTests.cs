using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Proximity.Storage.Orleans;

namespace Proximity.Storage.Tests;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> AddAsync(long seq);
    Task<IReadOnlyList<long>> SeqsAsync();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public List<long> Seqs { get; set; } = [];
}

public sealed class CounterGrain([PersistentState("counter", "proximity")] IPersistentState<CounterState> state) : Grain, ICounterGrain
{
    public async Task<int> AddAsync(long seq)
    {
        state.State.Seqs.Add(seq);
        await state.WriteStateAsync();
        return state.State.Seqs.Count;
    }

    public Task<IReadOnlyList<long>> SeqsAsync() => Task.FromResult<IReadOnlyList<long>>(state.State.Seqs);
}

/// <summary>A real silo clustered and persisted through the project's PostgreSQL providers.</summary>
public sealed class SiloIntegrationTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    protected override bool Migrate => false; // the silo migrates at start

    private IHost BuildSilo() => Host.CreateDefaultBuilder()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo => silo
            .Configure<ClusterOptions>(o => { o.ClusterId = "test-cluster"; o.ServiceId = "proximity-test"; })
            .ConfigureEndpoints(IPAddress.Loopback, FreePort(), FreePort())
            .UseProximityPostgresClustering(ConnectionString, migrate: true)
            .AddProximityPostgresGrainStorage("proximity", ConnectionString))
        .Build();

    [Fact]
    public async Task Grain_state_survives_the_silo_and_membership_records_both_generations()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var first = BuildSilo();
        await first.StartAsync(timeout.Token);
        var grain = first.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("off-1");
        for (long s = 1; s <= 5; s++) await grain.AddAsync(s);
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM orleans_membership WHERE status = {(int)SiloStatus.Active}"));
        await first.StopAsync(timeout.Token);
        first.Dispose();

        var second = BuildSilo();
        await second.StartAsync(timeout.Token);
        try
        {
            var again = second.Services.GetRequiredService<IGrainFactory>().GetGrain<ICounterGrain>("off-1");
            Assert.Equal([1L, 2, 3, 4, 5], await again.SeqsAsync());
            Assert.Equal(6, await again.AddAsync(6));
            Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM orleans_membership WHERE status = {(int)SiloStatus.Active}"));
            Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM orleans_membership WHERE status = {(int)SiloStatus.Dead}"));
            Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM orleans_grain_state WHERE service_id = 'proximity-test'"));
        }
        finally
        {
            await second.StopAsync(timeout.Token);
            second.Dispose();
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
