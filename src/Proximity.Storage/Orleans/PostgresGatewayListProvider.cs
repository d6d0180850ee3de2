using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;

namespace Proximity.Storage.Orleans;

/// <summary>For Orleans clients: the gateways are the active silos in the membership table.</summary>
public sealed class PostgresGatewayListProvider(ProximityDatabase database, IOptions<ClusterOptions> cluster, IOptions<GatewayOptions> gateway) : IGatewayListProvider
{
    private readonly PostgresMembershipTable _table = new(database, cluster.Value.ClusterId);

    public TimeSpan MaxStaleness => gateway.Value.GatewayListRefreshPeriod;

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        var data = await _table.ReadAll();
        return data.Members
            .Where(m => m.Item1.Status == SiloStatus.Active && m.Item1.ProxyPort > 0)
            .Select(m => SiloAddress.New(m.Item1.SiloAddress.Endpoint.Address, m.Item1.ProxyPort, m.Item1.SiloAddress.Generation).ToGatewayUri())
            .ToList();
    }
}
