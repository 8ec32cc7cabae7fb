using PeftSharp.Cli;
using PeftSharp.Models;
using PeftSharp.Tests.Models;
using PeftSharp.Tuners;
using PeftSharp.Tuners.Lora;
using static TorchSharp.torch;

namespace PeftSharp.Tests.Cli;

/// <summary><c>peft merge</c>: the merged directory loads with AutoModel and computes what base + adapter computes.</summary>
public class MergeCommandTests
{
    /// <summary>A LoRA whose A and B are both random, so the merged model differs from the base.</summary>
    static LoraConfig NonIdentityLora(IReadOnlyList<string>? modulesToSave = null) =>
        new() { R = 4, LoraAlpha = 8, InitLoraWeights = "false", ModulesToSave = modulesToSave };

    [Theory]
    [InlineData("llama", ModelTask.CausalLM)]
    [InlineData("gpt2", ModelTask.CausalLM)]                 // Conv1D weights: fan_in_fan_out
    [InlineData("bert", ModelTask.SequenceClassification)]   // classifier trained as a full copy (modules_to_save)
    public void MergedDirectoryGivesTheLogitsOfBasePlusAdapter(string modelType, ModelTask task)
    {
        using var scratch = Fixtures.TempDir();
        string baseDir = scratch.File("base"), adapterDir = scratch.File("adapter"), outDir = scratch.File("merged");
        var model = TinyModels.WriteCheckpoint(modelType, task, baseDir);
        PeftModel.Create(model, NonIdentityLora(task == ModelTask.SequenceClassification ? ["classifier"] : null)).SaveAdapter(adapterDir);

        var json = CliRunner.Json("merge", "--model", baseDir, "--adapter", adapterDir, "--out", outDir, "--json");
        Assert.Equal("LORA", (string)json["peft_type"]!);
        Assert.Equal(["config.json", "model.safetensors"], json["files"]!.AsArray().Select(f => (string)f!));
        Assert.Equal(["config.json", "model.safetensors"], Directory.EnumerateFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.EnumerateDirectories(scratch.Path, ".merged*")); // no temporary sibling left

        var ids = TinyModels.RandomIds(2, 7);
        using var _ = no_grad();
        var merged = AutoModel.Load(outDir).Model;
        var adapted = PeftModel.Load(AutoModel.Load(baseDir).Model, adapterDir);
        adapted.eval();
        var expected = adapted.call(new ModelInputs { InputIds = ids }).Logits!;
        var actual = merged.Logits(ids);
        double mergeError = Fixtures.MaxAbsDiff(expected, actual);
        Assert.True(mergeError < 1e-4, $"max diff {mergeError}");
        // The adapter's effect must stand far above the merge's rounding (a classifier head initialised with std 0.02
        // gives logits near 0.01, so an absolute threshold would not do).
        double effect = Fixtures.MaxAbsDiff(AutoModel.Load(baseDir).Model.Logits(ids), actual);
        Assert.True(effect > 1e-6 && effect > 100 * mergeError, $"the adapter should change the output (effect {effect}, merge error {mergeError})");
        Assert.Equal((long)json["parameters"]!, (long)CliRunner.Json("inspect", "--model", outDir, "--json")["parameters"]!);
    }

    [Fact]
    public void RealModelMergedGeneratesWhatBasePlusAdapterGeneratesAndKeepsItsTokenizer()
    {
        using var scratch = Fixtures.TempDir();
        string baseDir = Fixtures.Shared("models", "stories260K-hf"), adapterDir = scratch.File("adapter"), outDir = scratch.File("merged");
        // A strong random update (scaling 16): the greedy continuation must visibly change, whatever values the
        // (shared, unseeded) default generator gives A and B.
        var peft = PeftModel.Create(AutoModel.Load(baseDir).Model, new LoraConfig { R = 2, LoraAlpha = 32, InitLoraWeights = "false" });
        peft.SaveAdapter(adapterDir);

        var json = CliRunner.Json("merge", "-m", baseDir, "-a", adapterDir, "-o", outDir, "--dtype", "float32", "--safe", "--json");
        Assert.Equal(10, (int)json["merged_modules"]!); // q_proj and v_proj (Llama's default targets) of 5 blocks
        Assert.Equal(
            ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json"],
            json["files"]!.AsArray().Select(f => (string)f!));

        string[] generate = ["generate", "--prompt", "Lily", "-n", "12", "--json"];
        var withAdapter = CliRunner.Json([.. generate, "--model", baseDir, "--adapter", adapterDir]);
        var fromMerged = CliRunner.Json([.. generate, "--model", outDir]);
        var fromBase = CliRunner.Json([.. generate, "--model", baseDir]);
        Assert.Equal(withAdapter["token_ids"]!.ToJsonString(), fromMerged["token_ids"]!.ToJsonString());
        Assert.NotEqual(fromBase["token_ids"]!.ToJsonString(), fromMerged["token_ids"]!.ToJsonString());
    }

    [Fact]
    public void Bfloat16IsWrittenWhenAsked()
    {
        using var scratch = Fixtures.TempDir();
        string baseDir = scratch.File("base"), adapterDir = scratch.File("adapter"), outDir = scratch.File("merged");
        PeftModel.Create(TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, baseDir), NonIdentityLora()).SaveAdapter(adapterDir);
        var json = CliRunner.Json("merge", "--model", baseDir, "--adapter", adapterDir, "--out", outDir, "--dtype", "bfloat16", "--json");
        Assert.Equal("bfloat16", (string)json["dtype"]!);
        using (var file = PeftSharp.IO.SafetensorsFile.Open(Path.Combine(outDir, "model.safetensors")))
            Assert.All(file.Entries, e => Assert.Equal("BF16", e.DType));
        Assert.Equal("bfloat16", (string)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!["torch_dtype"]!);
    }

    [Fact]
    public void ANonEmptyOutputIsReplacedOnlyWithForce()
    {
        using var scratch = Fixtures.TempDir();
        string baseDir = scratch.File("base"), adapterDir = scratch.File("adapter"), outDir = scratch.File("merged");
        PeftModel.Create(TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, baseDir), NonIdentityLora()).SaveAdapter(adapterDir);
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "keep me");

        CliRunner.AssertBadInput(CliRunner.Run("merge", "--model", baseDir, "--adapter", adapterDir, "--out", outDir), "not empty", "--force");
        Assert.Equal(["notes.txt"], Directory.EnumerateFiles(outDir).Select(Path.GetFileName));

        Assert.Equal(0, CliRunner.Run("merge", "--model", baseDir, "--adapter", adapterDir, "--out", outDir, "--force").ExitCode);
        Assert.Equal(["config.json", "model.safetensors"], Directory.EnumerateFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["adapter", "base", "merged"], Directory.EnumerateFileSystemEntries(scratch.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // nothing left aside

        CliRunner.AssertBadInput(CliRunner.Run("merge", "--model", baseDir, "--adapter", adapterDir, "--out", baseDir, "--force"), "would replace the input");
    }

    [Fact]
    public void ASafeMergeRefusesNonFiniteWeightsAndWritesNothing()
    {
        using var scratch = Fixtures.TempDir();
        string baseDir = scratch.File("base"), adapterDir = scratch.File("adapter"), outDir = scratch.File("merged");
        var peft = PeftModel.Create(TinyModels.WriteCheckpoint("llama", ModelTask.CausalLM, baseDir), NonIdentityLora());
        using (no_grad()) peft.AdapterParameters("default").First().fill_(double.NaN);
        peft.SaveAdapter(adapterDir);

        CliRunner.AssertBadInput(CliRunner.Run("merge", "--model", baseDir, "--adapter", adapterDir, "--out", outDir, "--safe"), "NaN");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void AFailedWriteLeavesNeitherAHalfWrittenTargetNorTemporaryFiles()
    {
        using var scratch = Fixtures.TempDir();
        string target = scratch.File("out");
        Assert.Throws<IOException>(() => OutputDirectory.Publish(target, directory =>
        {
            File.WriteAllText(Path.Combine(directory, "config.json"), "{}");
            throw new IOException("disk full");
        }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));

        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "old.txt"), "old");
        Assert.Throws<IOException>(() => OutputDirectory.Publish(target, _ => throw new IOException("disk full")));
        Assert.Equal(["old.txt"], Directory.EnumerateFiles(target).Select(Path.GetFileName));
        Assert.Single(Directory.EnumerateFileSystemEntries(scratch.Path));
    }
}
