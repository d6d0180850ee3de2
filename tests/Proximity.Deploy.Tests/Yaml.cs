using YamlDotNet.RepresentationModel;

namespace Proximity.Deploy.Tests;

/// <summary>
/// YAML documents as plain values: mappings become <see cref="Map"/>, sequences lists, scalars strings.
/// Anchors and aliases are resolved by YamlDotNet's representation model.
/// </summary>
public static class Yaml
{
    public static IReadOnlyList<Map> LoadAll(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents.Where(d => d.RootNode is YamlMappingNode).Select(d => (Map)Convert(d.RootNode)!)];
    }

    public static Map Load(string text) => LoadAll(text) is [var single] ? single
        : throw new InvalidDataException("expected exactly one YAML document");

    public static Map LoadFile(string relative) => Load(Repo.Read(relative));

    private static object? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new Map(m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => Convert(kv.Value))),
        YamlSequenceNode s => s.Children.Select(Convert).ToList(),
        YamlScalarNode { Value: "null" or "~" or "", Style: YamlDotNet.Core.ScalarStyle.Plain } => null,
        YamlScalarNode sc => sc.Value,
        _ => throw new InvalidDataException($"unexpected YAML node {node.GetType().Name}"),
    };
}

/// <summary>A YAML mapping with accessors that fail with the path of what is missing.</summary>
public sealed class Map(Dictionary<string, object?> values)
{
    public IReadOnlyDictionary<string, object?> Values => values;

    public IEnumerable<string> Keys => values.Keys;

    public bool Has(string key) => values.ContainsKey(key);

    public Map M(string key) => Get(key) as Map ?? throw new KeyNotFoundException($"'{key}' is not a mapping");

    public Map? OptM(string key) => values.TryGetValue(key, out var v) ? v as Map : null;

    public List<object?> L(string key) => Get(key) as List<object?> ?? throw new KeyNotFoundException($"'{key}' is not a list");

    public List<object?> OptL(string key) => values.TryGetValue(key, out var v) && v is List<object?> l ? l : [];

    public string S(string key) => Get(key) as string ?? throw new KeyNotFoundException($"'{key}' is not a scalar");

    public string? OptS(string key) => values.TryGetValue(key, out var v) ? v as string : null;

    public IEnumerable<Map> Maps(string key) => OptL(key).OfType<Map>();

    private object? Get(string key) =>
        values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"missing '{key}' (have: {string.Join(", ", values.Keys)})");

    public override string ToString() => "{" + string.Join(", ", values.Keys) + "}";
}
