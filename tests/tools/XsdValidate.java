// Validates XML files against an XML Schema (XSD 1.0) with the JDK's own
// javax.xml.validation: no dependencies, run as a single-file program (Java 11+):
//
//     java tests/tools/XsdValidate.java SCHEMA.xsd FILE.xml [FILE.xml ...]
//
// Prints one line per problem, `FILE:LINE:COLUMN: severity: message`, and exits
// with 0 when every file is valid, 1 when one is not, 2 on usage errors or when
// the schema itself cannot be read. Used by tests/open_data.rs for codebook.qdc.

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

public class XsdValidate {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: java XsdValidate.java SCHEMA.xsd FILE.xml [FILE.xml ...]");
            System.exit(2);
        }
        Schema schema;
        try {
            SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
            // Nothing outside the given files is read: no DTDs or schemas from the network.
            factory.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            factory.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "file");
            schema = factory.newSchema(new File(args[0]));
        } catch (SAXException e) {
            System.err.println(args[0] + ": cannot read the schema: " + e.getMessage());
            System.exit(2);
            return;
        }
        boolean allValid = true;
        for (int i = 1; i < args.length; i++) {
            String file = args[i];
            List<String> problems = new ArrayList<>();
            ErrorHandler handler = new ErrorHandler() {
                private void add(String severity, SAXParseException e) {
                    problems.add(file + ":" + e.getLineNumber() + ":" + e.getColumnNumber()
                            + ": " + severity + ": " + e.getMessage());
                }

                public void warning(SAXParseException e) {
                    add("warning", e);
                }

                public void error(SAXParseException e) {
                    add("error", e);
                }

                public void fatalError(SAXParseException e) {
                    add("fatal", e);
                }
            };
            try {
                Validator validator = schema.newValidator();
                validator.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
                validator.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
                validator.setErrorHandler(handler);
                validator.validate(new StreamSource(new File(file)));
            } catch (SAXParseException e) {
                // Already reported through the handler (fatal errors are thrown too).
                if (problems.isEmpty()) {
                    problems.add(file + ":" + e.getLineNumber() + ":" + e.getColumnNumber()
                            + ": fatal: " + e.getMessage());
                }
            } catch (Exception e) {
                problems.add(file + ": " + e);
            }
            boolean valid = problems.stream().noneMatch(p -> !p.contains(": warning: "));
            for (String p : problems) {
                System.out.println(p);
            }
            if (valid) {
                System.out.println(file + ": valid");
            } else {
                allValid = false;
            }
        }
        System.exit(allValid ? 0 : 1);
    }
}
