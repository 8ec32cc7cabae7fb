using System.Collections;
using System.Reflection;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Common;

/// <summary>
/// Finds and replaces submodules of any TorchSharp module tree by dotted path ("model.layers.0.self_attn.q_proj"),
/// the user's own models included. Replacing re-registers the child under the same name and repoints every field of
/// the parent that held the old module, so the parent's forward calls the new one.
/// </summary>
public static class ModuleTree
{
    /// <summary>The module at <paramref name="path"/> ("" is the root).</summary>
    /// <exception cref="ArgumentException">No module at that path.</exception>
    public static nn.Module Get(nn.Module root, string path)
    {
        if (path.Length == 0) return root;
        var current = root;
        foreach (string part in path.Split('.'))
        {
            var child = current.named_children().FirstOrDefault(c => c.name == part).module;
            current = child ?? throw new ArgumentException($"no module at '{path}' (no child '{part}')", nameof(path));
        }
        return current;
    }

    /// <summary>Splits "a.b.c" into ("a.b", "c").</summary>
    public static (string Parent, string Name) Split(string path)
    {
        int dot = path.LastIndexOf('.');
        return dot < 0 ? ("", path) : (path[..dot], path[(dot + 1)..]);
    }

    /// <summary>Puts <paramref name="replacement"/> where the module at <paramref name="path"/> is; returns the old one.</summary>
    /// <exception cref="InvalidOperationException">The parent does not hold the old module in a field or list it can repoint.</exception>
    public static nn.Module Replace(nn.Module root, string path, nn.Module replacement)
    {
        if (path.Length == 0) throw new ArgumentException("the root module cannot be replaced", nameof(path));
        var (parentPath, name) = Split(path);
        var parent = Get(root, parentPath);
        var old = Get(parent, name);
        int repointed = Repoint(parent, old, replacement);
        if (repointed == 0)
            throw new InvalidOperationException(
                $"'{path}' is registered in {parent.GetType().Name} but no field or list of it holds the module, so its forward would keep calling the old one");
        parent.register_module(name, null!);
        parent.register_module(name, replacement);
        // Training mode follows the tree the module joins.
        replacement.train(parent.training);
        return old;
    }

    /// <summary>Sets every field (or list slot) of <paramref name="owner"/> that refers to <paramref name="old"/>.</summary>
    static int Repoint(object owner, nn.Module old, nn.Module replacement)
    {
        int count = 0;
        for (var type = owner.GetType(); type != null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                var value = field.GetValue(owner);
                if (ReferenceEquals(value, old))
                {
                    if (!field.FieldType.IsInstanceOfType(replacement))
                        throw new InvalidOperationException(
                            $"field {type.Name}.{field.Name} is declared as {field.FieldType.Name}, which cannot hold a {replacement.GetType().Name}; declare it as nn.Module<Tensor, Tensor>");
                    field.SetValue(owner, replacement);
                    count++;
                }
            }
        }
        if (owner is IList list && owner is nn.Module)
        {
            for (int i = 0; i < list.Count; i++)
                if (ReferenceEquals(list[i], old))
                {
                    list[i] = replacement;
                    count++;
                }
        }
        return count;
    }
}
