using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Proximity.Storage.Migrations;

namespace Proximity.Storage.Orleans;

/// <summary>Wires the project's PostgreSQL membership table and grain storage into Orleans.</summary>
public static class ProximityOrleansExtensions
{
    /// <summary>
    /// Cluster membership in PostgreSQL. With <paramref name="migrate"/> each silo applies the
    /// schema migrations before it joins (safe when several start together: they take a lock).
    /// </summary>
    public static ISiloBuilder UseProximityPostgresClustering(this ISiloBuilder builder, string connectionString, bool migrate = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.AddProximityDatabase(connectionString);
        builder.Services.AddSingleton<IMembershipTable>(sp =>
        {
            var database = sp.GetProximityDatabase(connectionString);
            var table = new PostgresMembershipTable(database, sp.GetRequiredService<IOptions<ClusterOptions>>());
            return migrate ? new MigratingMembershipTable(database, table) : table;
        });
        return builder;
    }

    /// <summary>Orleans clients find the gateways through the same membership table.</summary>
    public static IClientBuilder UseProximityPostgresClustering(this IClientBuilder builder, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.AddProximityDatabase(connectionString);
        builder.Services.AddSingleton<IGatewayListProvider>(sp => new PostgresGatewayListProvider(
            sp.GetProximityDatabase(connectionString),
            sp.GetRequiredService<IOptions<ClusterOptions>>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>()));
        return builder;
    }

    /// <summary>Grain storage named <paramref name="name"/> in PostgreSQL (<c>[PersistentState("x", name)]</c>).</summary>
    public static ISiloBuilder AddProximityPostgresGrainStorage(this ISiloBuilder builder, string name, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        builder.Services.AddProximityDatabase(connectionString);
        builder.Services.AddGrainStorage(name, (sp, storageName) => new PostgresGrainStorage(
            storageName,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            sp.GetProximityDatabase(connectionString),
            sp.GetRequiredService<IGrainStorageSerializer>()));
        return builder;
    }

    /// <summary>Applies the migrations once, before the first membership call of this silo.</summary>
    private sealed class MigratingMembershipTable(ProximityDatabase database, PostgresMembershipTable inner) : IMembershipTable
    {
        public async Task InitializeMembershipTable(bool tryInitTableVersion)
        {
            await Migrator.MigrateAsync(database.DataSource);
            await inner.InitializeMembershipTable(tryInitTableVersion);
        }

        public Task DeleteMembershipTableEntries(string clusterId) => inner.DeleteMembershipTableEntries(clusterId);
        public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => inner.CleanupDefunctSiloEntries(beforeDate);
        public Task<MembershipTableData> ReadRow(global::Orleans.Runtime.SiloAddress key) => inner.ReadRow(key);
        public Task<MembershipTableData> ReadAll() => inner.ReadAll();
        public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => inner.InsertRow(entry, tableVersion);
        public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => inner.UpdateRow(entry, etag, tableVersion);
        public Task UpdateIAmAlive(MembershipEntry entry) => inner.UpdateIAmAlive(entry);
    }
}
