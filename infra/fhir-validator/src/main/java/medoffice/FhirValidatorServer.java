package medoffice;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The HL7 FHIR R4 validator as a long-lived process: one FHIR JSON resource per line on stdin,
 * one JSON array of its issues ({severity, location, message}) per line on stdout, in order.
 * A line that is not even JSON answers one fatal issue. The process starts with "ready" on
 * stdout once the validator is warm (the first validation loads the R4 core definitions).
 *
 * <p>Arguments: files of StructureDefinitions (FHIR JSON) the server publishes, e.g. its own
 * extensions; they are loaded next to R4 core. Unknown extensions are errors, so an extension
 * the server uses and does not publish fails validation.
 */
public final class FhirValidatorServer {
  private FhirValidatorServer() {}

  public static void main(String[] args) throws Exception {
    FhirContext ctx = FhirContext.forR4();
    PrePopulatedValidationSupport published = new PrePopulatedValidationSupport(ctx);
    for (String file : args) {
      String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
      IBaseResource definition = ctx.newJsonParser().parseResource(text);
      published.addResource(definition);
    }
    ValidationSupportChain chain =
        new ValidationSupportChain(
            published,
            new DefaultProfileValidationSupport(ctx),
            new CommonCodeSystemsTerminologyService(ctx),
            new InMemoryTerminologyServerValidationSupport(ctx),
            new SnapshotGeneratingValidationSupport(ctx));
    FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
    // Strict: an extension that neither R4 core nor the arguments define is an error.
    instanceValidator.setAnyExtensionsAllowed(false);
    FhirValidator validator = ctx.newValidator().registerValidatorModule(instanceValidator);

    Gson gson = new Gson();
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    // Warm up: the first validation loads and snapshots the core definitions.
    validator.validateWithResult("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"warm-up\"}}");
    out.println("ready");

    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonArray issues = new JsonArray();
      try {
        ValidationResult result = validator.validateWithResult(line);
        for (SingleValidationMessage message : result.getMessages()) {
          issues.add(
              issue(
                  message.getSeverity().getCode(),
                  message.getLocationString(),
                  message.getMessage()));
        }
      } catch (RuntimeException e) {
        issues.add(issue("fatal", "", "could not validate: " + e));
      }
      out.println(gson.toJson(issues));
    }
  }

  private static JsonObject issue(String severity, String location, String message) {
    JsonObject issue = new JsonObject();
    issue.addProperty("severity", severity);
    issue.addProperty("location", location == null ? "" : location);
    issue.addProperty("message", message);
    return issue;
  }
}
