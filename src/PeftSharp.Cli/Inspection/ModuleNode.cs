using System.Text.Json.Nodes;
using PeftSharp.Models;
using static TorchSharp.torch;

namespace PeftSharp.Cli.Inspection;

/// <summary>
/// One node of a model's module tree with its parameter count. Consecutive numbered siblings of identical structure
/// (a model's blocks) are collapsed into one node: <see cref="Repeat"/> instances named "first-last", children shown once.
/// </summary>
/// <param name="Name">Attribute name ("self_attn"), "layers.0-4" for a collapsed block list, "" for the root.</param>
/// <param name="Type">Class name (the Hugging Face architecture for the root).</param>
/// <param name="ParametersEach">Parameters one instance owns, itself and below; shared parameters count where first seen.</param>
/// <param name="Repeat">Instances this node stands for (1 unless collapsed).</param>
/// <param name="Children">Child nodes (of the first instance when collapsed); modules without parameters are left out.</param>
/// <param name="Shared">Parameters of this module counted elsewhere, as "name -> full name of the first holder".</param>
sealed record ModuleNode(string Name, string Type, long ParametersEach, int Repeat, IReadOnlyList<ModuleNode> Children, IReadOnlyList<string> Shared)
{
    /// <summary>Parameters of all instances.</summary>
    public long Parameters => ParametersEach * Repeat;

    /// <summary>The tree of <paramref name="model"/>, with every parameter counted once (the root's count is the unique total).</summary>
    public static ModuleNode Build(TransformerModel model)
    {
        // The first path at which each tensor appears owns it; later appearances (tied weights) are listed as shared.
        var owners = new Dictionary<long, string>();
        foreach (var (name, parameter) in model.named_parameters())
            owners.TryAdd(ParameterCounts.StorageIdentity(parameter), name);
        return Build(model, "", "", model.Architecture, owners);
    }

    static ModuleNode Build(nn.Module module, string name, string path, string type, Dictionary<long, string> owners)
    {
        long own = 0;
        var shared = new List<string>();
        foreach (var (parameterName, parameter) in module.named_parameters(recurse: false))
        {
            string full = path.Length == 0 ? parameterName : $"{path}.{parameterName}";
            // named_parameters may leave out a second holder of a tensor, so a missing entry means "owned here".
            if (!owners.TryGetValue(ParameterCounts.StorageIdentity(parameter), out var owner) || owner == full) own += parameter.numel();
            else shared.Add($"{parameterName} -> {owner}");
        }
        var children = module.named_children()
            .Select(c => Build(c.module, c.name, path.Length == 0 ? c.name : $"{path}.{c.name}", TypeName(c.module), owners))
            .Where(c => c.Parameters > 0 || c.Shared.Count > 0)
            .ToList();
        var collapsed = Collapse(children);
        long total = own + collapsed.Sum(c => c.Parameters);
        // A list of blocks that collapses into one run reads best as a single line: "layers.0-4 (5 x LlamaDecoderLayer)".
        if (own == 0 && shared.Count == 0 && collapsed.Count == 1 && collapsed[0].Repeat > 1)
            return collapsed[0] with { Name = $"{name}.{collapsed[0].Name}" };
        return new ModuleNode(name, type, total, 1, collapsed, shared);
    }

    /// <summary>Joins runs of siblings named n, n+1, ... with the same structure.</summary>
    static List<ModuleNode> Collapse(List<ModuleNode> children)
    {
        var result = new List<ModuleNode>();
        int i = 0;
        while (i < children.Count)
        {
            int j = i + 1;
            if (int.TryParse(children[i].Name, out int first))
            {
                string signature = children[i].Signature();
                while (j < children.Count && int.TryParse(children[j].Name, out int index) && index == first + (j - i) && children[j].Signature() == signature) j++;
            }
            int count = j - i;
            result.Add(count == 1 ? children[i] : children[i] with { Name = $"{children[i].Name}-{children[j - 1].Name}", Repeat = count });
            i = j;
        }
        return result;
    }

    /// <summary>Type, counts and children's structure: equal for blocks that can be shown once.</summary>
    string Signature() =>
        $"{Type}:{ParametersEach}x{Repeat}[{string.Join(",", Shared)}]{{{string.Join(";", Children.Select(c => c.Name + "=" + c.Signature()))}}}";

    /// <summary>Class name without generic arity ("ModuleList`1" -> "ModuleList").</summary>
    static string TypeName(nn.Module module)
    {
        string name = module.GetType().Name;
        int tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }

    /// <summary>The node as JSON (counts, repeat, children).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["name"] = Name,
            ["type"] = Type,
            ["parameters"] = Parameters,
        };
        if (Repeat > 1)
        {
            json["repeat"] = Repeat;
            json["parameters_each"] = ParametersEach;
        }
        if (Shared.Count > 0) json["shared"] = new JsonArray(Shared.Select(s => (JsonNode?)s).ToArray());
        if (Children.Count > 0) json["children"] = new JsonArray(Children.Select(c => (JsonNode?)c.ToJson()).ToArray());
        return json;
    }
}
